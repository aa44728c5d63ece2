package agent

// doneMemory is how many answered request ids the agent remembers, so a
// request whose removal failed is never run twice. Nova uses fresh UUIDs,
// so only recent ids can come back.
const doneMemory = 4096

// requestQueue keeps the ids of data/host in arrival order and remembers
// recently answered ids. The C xenstored (and the test server) list a
// directory's children in creation order, so ids new to a listing keep the
// listing's order; oxenstored lists them sorted by name, the best that can
// be done there since XenStore records no creation time.
type requestQueue struct {
	order []string        // pending ids, first seen first
	seen  map[string]bool // ids in order

	done     map[string]bool
	doneRing []string // insertion order of done, for eviction
	doneNext int
}

func newRequestQueue(memory int) requestQueue {
	return requestQueue{
		seen:     map[string]bool{},
		done:     map[string]bool{},
		doneRing: make([]string, memory),
	}
}

// update takes a fresh listing of data/host and returns the listed ids in
// arrival order: ids seen before keep their place, ids first seen in this
// listing follow in listing order; ids no longer listed are dropped.
func (q *requestQueue) update(listed []string) []string {
	present := make(map[string]bool, len(listed))
	var fresh []string
	for _, id := range listed {
		if present[id] {
			continue
		}
		present[id] = true
		if !q.seen[id] {
			fresh = append(fresh, id)
		}
	}
	kept := q.order[:0]
	for _, id := range q.order {
		if present[id] {
			kept = append(kept, id)
		} else {
			delete(q.seen, id)
		}
	}
	for _, id := range fresh {
		q.seen[id] = true
		kept = append(kept, id)
	}
	q.order = kept
	return append([]string(nil), kept...)
}

// forget drops id from the pending order (it is gone from data/host).
func (q *requestQueue) forget(id string) {
	if !q.seen[id] {
		return
	}
	delete(q.seen, id)
	for i, v := range q.order {
		if v == id {
			q.order = append(q.order[:i], q.order[i+1:]...)
			break
		}
	}
}

func (q *requestQueue) isDone(id string) bool { return q.done[id] }

// markDone remembers id as answered, evicting the oldest beyond the memory.
func (q *requestQueue) markDone(id string) {
	if q.done[id] {
		return
	}
	if old := q.doneRing[q.doneNext]; old != "" {
		delete(q.done, old)
	}
	q.doneRing[q.doneNext] = id
	q.doneNext = (q.doneNext + 1) % len(q.doneRing)
	q.done[id] = true
}
