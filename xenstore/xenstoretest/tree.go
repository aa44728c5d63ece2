package xenstoretest

import "sort"

// node is one XenStore node. gen is the store generation that last changed
// it (its value, or its list of children); transactions compare gens to
// detect conflicts.
type node struct {
	value    []byte
	children map[string]*node
	order    []string // child names in creation order, as C xenstored lists them
	perms    []string // GET_PERMS entries, e.g. ["n0"]
	gen      uint64
}

func newNode(gen uint64) *node {
	return &node{children: map[string]*node{}, perms: []string{"n0"}, gen: gen}
}

func (n *node) clone() *node {
	c := &node{
		value:    append([]byte(nil), n.value...),
		children: make(map[string]*node, len(n.children)),
		order:    append([]string(nil), n.order...),
		perms:    append([]string(nil), n.perms...),
		gen:      n.gen,
	}
	for k, v := range n.children {
		c.children[k] = v.clone()
	}
	return c
}

// childNames lists the children in creation order, as the C xenstored does
// (it appends a new child to the node's list), so arrival order survives.
func (n *node) childNames() []string {
	return append([]string{}, n.order...)
}

func (n *node) sortedChildNames() []string {
	names := n.childNames()
	sort.Strings(names)
	return names
}

func (n *node) removeChild(name string) {
	delete(n.children, name)
	for i, v := range n.order {
		if v == name {
			n.order = append(n.order[:i:i], n.order[i+1:]...)
			break
		}
	}
}

// store is a tree plus the generation counter that stamps its changes.
type store struct {
	root *node
	gen  *uint64 // shared between the global store and transaction copies
}

func (s store) bump() uint64 { *s.gen++; return *s.gen }

func (s store) lookup(abs string) *node {
	n := s.root
	for _, c := range components(abs) {
		if n = n.children[c]; n == nil {
			return nil
		}
	}
	return n
}

// genOf is the node's generation, 0 when it does not exist.
func (s store) genOf(abs string) uint64 {
	if n := s.lookup(abs); n != nil {
		return n.gen
	}
	return 0
}

// touched lists the paths whose state a change of abs depends on: abs and
// each missing ancestor up to and including the first existing one, whose
// child list the change would modify.
func (s store) touched(abs string) []string {
	paths := []string{abs}
	for p := abs; p != "/" && s.lookup(p) == nil; {
		p = parentOf(p)
		paths = append(paths, p)
	}
	return paths
}

// ensure returns the node at abs, creating it and missing ancestors.
func (s store) ensure(abs string) *node {
	n := s.root
	for _, c := range components(abs) {
		child := n.children[c]
		if child == nil {
			g := s.bump()
			child = newNode(g)
			n.children[c] = child
			n.order = append(n.order, c)
			n.gen = g
		}
		n = child
	}
	return n
}

func (s store) write(abs string, value []byte) {
	n := s.ensure(abs)
	n.value = append([]byte(nil), value...)
	n.gen = s.bump()
}

func (s store) mkdir(abs string) { s.ensure(abs) }

// rm removes abs and its subtree. It reports whether something was removed
// and whether the path's parent exists (xenstored accepts RM of a missing
// node when its parent exists).
func (s store) rm(abs string) (removed, parentExists bool) {
	parent := s.lookup(parentOf(abs))
	if parent == nil {
		return false, false
	}
	name := components(abs)
	last := name[len(name)-1]
	if parent.children[last] == nil {
		return false, true
	}
	parent.removeChild(last)
	parent.gen = s.bump()
	return true, true
}

func (s store) setPerms(abs string, perms []string) bool {
	n := s.lookup(abs)
	if n == nil {
		return false
	}
	n.perms = append([]string(nil), perms...)
	n.gen = s.bump()
	return true
}
