package xenstoretest

import (
	"strconv"
)

// opKind is a change a transaction replays on commit.
type opKind int

const (
	opWrite opKind = iota
	opMkdir
	opRm
	opSetPerms
)

type op struct {
	kind  opKind
	abs   string
	value []byte
	perms []string
}

// txn is an open transaction: a private copy of the store, plus the
// generation every path it looked at had when it started. Commit fails with
// EAGAIN if any of those changed since, otherwise replays its ops.
type txn struct {
	snapshot store // the store as it was at start, never modified
	st       store // the transaction's own view
	seen     map[string]uint64
	ops      []op
}

// view is where a request operates: the global store or a transaction.
type view struct {
	st store
	tx *txn
}

// see records paths the transaction depends on.
func (v view) see(paths ...string) {
	if v.tx == nil {
		return
	}
	for _, p := range paths {
		if _, done := v.tx.seen[p]; !done {
			v.tx.seen[p] = v.tx.snapshot.genOf(p)
		}
	}
}

func (v view) lookup(abs string) *node {
	v.see(abs)
	return v.st.lookup(abs)
}

// apply performs o in v: immediately with watch events outside a
// transaction, or privately (to be replayed on commit) inside one.
func (s *Server) apply(v view, o op) {
	if v.tx != nil {
		v.see(v.st.touched(o.abs)...)
		if o.kind == opRm {
			v.see(parentOf(o.abs))
		}
		v.tx.ops = append(v.tx.ops, o)
	}
	switch o.kind {
	case opWrite:
		v.st.write(o.abs, o.value)
	case opMkdir:
		v.st.mkdir(o.abs)
	case opRm:
		v.st.rm(o.abs)
	case opSetPerms:
		v.st.setPerms(o.abs, o.perms)
	}
	if v.tx == nil {
		s.fire(o.abs, o.kind == opRm)
	}
}

func (s *Server) doTransactionStart(r *request) ([]byte, string) {
	if r.p.TxID != 0 {
		return nil, "EBUSY" // no nested transactions
	}
	c := r.c
	c.nextTx++
	if c.nextTx == 0 {
		c.nextTx = 1
	}
	snap := s.st.root.clone()
	c.txns[c.nextTx] = &txn{
		snapshot: store{root: snap, gen: &s.gen},
		st:       store{root: snap.clone(), gen: &s.gen},
		seen:     map[string]uint64{},
	}
	return []byte(strconv.FormatUint(uint64(c.nextTx), 10) + "\x00"), ""
}

func (s *Server) doTransactionEnd(r *request) ([]byte, string) {
	arg, good := oneArg(r.p.Payload)
	if !good || (arg != "T" && arg != "F") {
		return nil, "EINVAL"
	}
	tx := r.v.tx
	if tx == nil {
		return nil, "ENOENT"
	}
	delete(r.c.txns, r.p.TxID)
	if arg == "F" {
		return ok, ""
	}
	for p, g := range tx.seen {
		if s.st.genOf(p) != g {
			return nil, "EAGAIN"
		}
	}
	global := view{st: s.st}
	for _, o := range tx.ops {
		s.apply(global, o)
	}
	return ok, ""
}
