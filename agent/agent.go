package agent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"time"

	"guestbridge/xenstore"
)

// Store is the part of a XenStore client the agent needs; *xenstore.Client
// satisfies it. Relative paths resolve under the guest's own domain.
type Store interface {
	Read(ctx context.Context, path string) ([]byte, error) // missing → error wrapping fs.ErrNotExist
	Write(ctx context.Context, path string, value []byte) error
	Remove(ctx context.Context, path string) error
	Mkdir(ctx context.Context, path string) error
	List(ctx context.Context, path string) ([]string, error)
	// Watch sends changed paths (including one initial event) until ctx
	// ends or the connection is lost, then closes the channel.
	Watch(ctx context.Context, path string) (<-chan string, error)
}

// Actions are the side effects the host may ask for. Implementations must
// never put the password or file contents into their errors.
type Actions interface {
	SetPassword(password string) error
	InjectFile(path string, content []byte) error
	ResetNetwork(ctx context.Context) error
}

// Defaults for Options.
const (
	DefaultPollInterval    = 5 * time.Second
	DefaultMetricsInterval = 60 * time.Second
	// DefaultVersion is what `version` answers when Options.Version is
	// empty; nova compares it with LooseVersion, so it must be numeric.
	DefaultVersion = "0.0.0"
)

// Options tune an Agent. The zero value is usable: polling every 5 s,
// updates disabled, metrics disabled, no logging.
type Options struct {
	Version string // answered to `version`; DefaultVersion when empty

	// PollInterval is the safety-net scan of data/host besides the watch
	// (DefaultPollInterval when zero).
	PollInterval time.Duration

	AllowUpdate         bool // let `agentupdate` replace the running binary
	AllowInsecureUpdate bool // also accept http:// update URLs

	// Refuse, when not nil, returns the message a command is refused with
	// (a 500 reply like other failures), or "" to let it run.
	Refuse func(name string) string

	Logf  func(format string, args ...any) // nil: no logging
	Ready func()                           // called once, after the first successful scan

	// Done, when not nil, is told about each answered request once its
	// reply has been written, and once when a reply's first write fails
	// (the write is retried and, when it succeeds, Done is called again
	// for the same id). The record carries no request value and, for
	// success, no reply message: never a key, a password or a file's
	// contents. Done runs on the goroutine that serves requests, before
	// the next request is read: it must return at once and must not call
	// back into the Agent (hand the record to another goroutine, say by a
	// non-blocking channel send or under a short mutex).
	Done func(RequestRecord)

	// MetricsInterval is how often guest metrics are published; 0 disables
	// them (the CLI passes DefaultMetricsInterval).
	MetricsInterval time.Duration

	// HeartbeatInterval is how often data/guestbridge/heartbeat is written
	// (heartbeat.go); 0 disables the heartbeat and the version keys.
	HeartbeatInterval time.Duration

	// Root is prepended to /proc, /sys and /etc paths read for metrics
	// (tests); "" means the real root.
	Root string

	// Hooks for agentupdate; nil means the real thing.
	HTTPClient *http.Client                                // download client
	Executable func() (string, error)                      // os.Executable
	Reexec     func(path string, args, env []string) error // syscall.Exec
}

// Agent serves requests one at a time. Create it with New; Run it once.
type Agent struct {
	store Store
	act   Actions
	opts  Options
	logf  func(string, ...any)

	queue   requestQueue
	unsent  map[string]answer // replies computed but not yet written, by id
	keys    keyState          // keyinit result, consumed by password
	metrics *metricsPublisher

	// hinted are request ids named by watch events, in event order: when
	// data/host cannot be listed (too large for one reply, and the daemon
	// lacks XS_DIRECTORY_PART) they are the only way to find new requests.
	hinted      []string
	hintedSet   map[string]bool
	partsErrors errorLog

	readyOnce   sync.Once
	scanErrors  errorLog
	watchErrors errorLog
}

// maxHinted bounds the ids remembered from watch events.
const maxHinted = 4096

// errorLog keeps a XenStore outage (retried every second) from flooding
// the log: a repeated error is logged once a minute.
type errorLog struct {
	what   string // "scanning data/host"
	last   string
	at     time.Time
	failed bool
}

const errorLogEvery = time.Minute

func (e *errorLog) report(logf func(string, ...any), err error) {
	msg := err.Error()
	if msg != e.last || time.Since(e.at) >= errorLogEvery {
		logf("agent: %s: %v (retrying)", e.what, err)
		e.last, e.at = msg, time.Now()
	}
	e.failed = true
}

func (e *errorLog) recovered(logf func(string, ...any)) {
	if e.failed {
		logf("agent: %s works again", e.what)
	}
	*e = errorLog{what: e.what}
}

// New returns an agent that reads requests from store and performs them
// with act.
func New(store Store, act Actions, opts Options) *Agent {
	if opts.Version == "" {
		opts.Version = DefaultVersion
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	a := &Agent{
		store:       store,
		act:         act,
		opts:        opts,
		logf:        logf,
		queue:       newRequestQueue(doneMemory),
		unsent:      map[string]answer{},
		scanErrors:  errorLog{what: "scanning " + hostDir},
		partsErrors: errorLog{what: "listing " + hostDir + " (serving the requests watch events name meanwhile)"},
		hintedSet:   map[string]bool{},
		watchErrors: errorLog{what: "watching " + hostDir + " (polling meanwhile)"},
	}
	if opts.MetricsInterval > 0 {
		a.metrics = newMetricsPublisher(store, opts.Root, logf)
	}
	return a
}

const (
	hostDir  = "data/host"
	guestDir = "data/guest"
	// retryDelay is how soon a failed scan is retried; XenStore errors are
	// usually a reconnect in progress.
	retryDelay = time.Second
)

// Run serves requests until ctx ends, then returns nil. XenStore errors are
// logged and retried; they never end Run.
func (a *Agent) Run(ctx context.Context) error {
	if sw, ok := a.act.(interface{ SweepTemp(func(string, ...any)) }); ok {
		sw.SweepTemp(a.logf)
	}
	if err := a.store.Mkdir(ctx, hostDir); err != nil && ctx.Err() == nil {
		// Usually "already exists"; a real failure shows up in the scan.
		a.logf("agent: mkdir %s: %v", hostDir, err)
	}
	if a.opts.HeartbeatInterval > 0 {
		hbCtx, stopHB := context.WithCancel(ctx)
		hbDone := make(chan struct{})
		go func() {
			defer close(hbDone)
			a.heartbeat(hbCtx, a.opts.HeartbeatInterval)
		}()
		defer func() { stopHB(); <-hbDone }()
	}
	poll := time.NewTicker(a.opts.PollInterval)
	defer poll.Stop()
	var metricsTick <-chan time.Time
	if a.metrics != nil {
		t := time.NewTicker(a.opts.MetricsInterval)
		defer t.Stop()
		metricsTick = t.C
		a.metrics.publish(ctx)
	}
	retry := time.NewTimer(0) // first scan right away
	defer retry.Stop()

	var events <-chan string
	firstEvent := false // the next event on the watched path is the initial one
	for {
		if events == nil {
			events, firstEvent = a.watch(ctx), true
		}
		select {
		case <-ctx.Done():
			return nil
		case changed, ok := <-events:
			if !ok {
				// The connection was lost: re-watch on the next tick, and
				// republish every metric since the store may be new.
				events = nil
				if a.metrics != nil {
					a.metrics.forget()
				}
				continue
			}
			if a.isOwnRemoval(changed) {
				continue // saves a listing per request
			}
			a.hint(changed)
			if isWatchRoot(changed) {
				// Besides the initial event, the client sends the watched
				// path after reconnecting: the store may have lost our
				// metrics, so write them all again now.
				if !firstEvent && a.metrics != nil {
					a.metrics.forget()
					a.metrics.publish(ctx)
				}
				firstEvent = false
			}
		case <-poll.C:
		case <-retry.C:
		case <-metricsTick:
			a.metrics.publish(ctx)
			continue
		}
		if err := a.scan(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			a.scanErrors.report(a.logf, err)
			retry.Reset(retryDelay)
			continue
		}
		a.scanErrors.recovered(a.logf)
		a.readyOnce.Do(func() {
			if a.opts.Ready != nil {
				a.opts.Ready()
			}
		})
	}
}

// watch starts a watch on data/host; nil (never ready) when it fails, in
// which case the poll ticker keeps the agent going and the next loop
// iteration tries again.
func (a *Agent) watch(ctx context.Context) <-chan string {
	ch, err := a.store.Watch(ctx, hostDir)
	if err != nil {
		if ctx.Err() == nil {
			a.watchErrors.report(a.logf, err)
		}
		return nil
	}
	a.watchErrors.recovered(a.logf)
	return ch
}

// isWatchRoot reports whether a watch event names data/host itself.
func isWatchRoot(changed string) bool {
	return changed == hostDir || strings.HasSuffix(changed, "/"+hostDir)
}

// requestID returns the id when a watch event names data/host/<id>.
func requestID(changed string) (string, bool) {
	i := strings.LastIndex(changed, hostDir+"/")
	if i < 0 || (i > 0 && changed[i-1] != '/') {
		return "", false
	}
	id := changed[i+len(hostDir)+1:]
	return id, id != "" && !strings.Contains(id, "/")
}

// hint remembers the request a watch event names, for the listing fallback.
func (a *Agent) hint(changed string) {
	id, ok := requestID(changed)
	if !ok || a.hintedSet[id] || a.queue.isDone(id) {
		return
	}
	if len(a.hinted) >= maxHinted {
		delete(a.hintedSet, a.hinted[0])
		a.hinted = a.hinted[1:]
	}
	a.hinted = append(a.hinted, id)
	a.hintedSet[id] = true
}

// isOwnRemoval reports whether a watch event is for a request the agent
// has already answered (the event its own removal fired).
func (a *Agent) isOwnRemoval(changed string) bool {
	id, ok := requestID(changed)
	return ok && a.queue.isDone(id)
}

// scan lists data/host and handles every pending request in arrival order.
// A directory too large for one reply is listed in parts by the client; if
// the daemon cannot do that, the ids already known plus those watch events
// named are served instead, so new requests are still answered.
func (a *Agent) scan(ctx context.Context) error {
	ids, err := a.store.List(ctx, hostDir)
	if errors.Is(err, fs.ErrNotExist) {
		ids, err = nil, nil
	}
	if errors.Is(err, xenstore.ErrDirectoryPartUnsupported) {
		a.partsErrors.report(a.logf, err)
		ids, err = a.knownIDs(), nil
	} else if err == nil {
		a.partsErrors.recovered(a.logf)
	}
	if err != nil {
		return err
	}
	a.hinted, a.hintedSet = a.hinted[:0], map[string]bool{}
	pending := a.queue.update(ids)
	a.pruneUnsent(pending)
	// One request failing (say, unreadable) must not hold up the others;
	// the first error makes Run retry soon.
	var first error
	for _, id := range pending {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := a.serve(ctx, id); err != nil && first == nil {
			first = fmt.Errorf("request %s: %w", id, err)
		}
	}
	return first
}

// knownIDs is the pending order followed by the hinted ids not in it.
func (a *Agent) knownIDs() []string {
	ids := append([]string(nil), a.queue.order...)
	for _, id := range a.hinted {
		if !a.queue.seen[id] {
			ids = append(ids, id)
		}
	}
	return ids
}

// answer is a computed reply and what to do once it is written.
type answer struct {
	reply []byte
	after func()
	rec   RequestRecord // for Options.Done
	// failReported: Done was already told about a failed write.
	failReported bool
}

// RequestRecord describes one answered request for Options.Done. It holds
// what `guestbridge status` may show to any user: never the request's
// value, and a reply message only for failures (whose messages never echo
// a secret; success replies of keyinit carry the agent's public key).
type RequestRecord struct {
	ID       string        // the request id (data/host/<id>)
	Command  string        // the command name (at most 64 bytes); "?" when the request has none
	Received time.Time     // when the agent read the request
	Duration time.Duration // from Received to the reply's write (or its failure)
	Code     string        // the returncode replied: "0", "D0", "404", "500"
	Message  string        // the reply message of a failure (404, 500), at most 256 bytes; "" otherwise
	// WriteError is set when the reply could not be written to XenStore;
	// the agent retries, and reports the request again once it is written.
	WriteError string
}

// maxRecordMessage caps RequestRecord.Message.
const maxRecordMessage = 256

func newRecord(id, name string, received time.Time, res result) RequestRecord {
	rec := RequestRecord{ID: id, Command: clip(name, 64), Received: received, Code: res.Code}
	if res.Code == codeError || res.Code == codeNotFound {
		rec.Message = clip(redactURLs(res.Message), maxRecordMessage)
	}
	return rec
}

// redactURLs hides the user info and the query of each URL in a message
// (an agentupdate failure names its URL, which may be a signed one):
// "https://u:p@host/a?sig=x" becomes "https://<redacted>@host/a?<redacted>".
// The reply to the host keeps them; only the record, readable by any
// user, does not.
func redactURLs(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "://")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := strings.IndexAny(s[i:], " \t\n\"'<>")
		if end < 0 {
			end = len(s)
		} else {
			end += i
		}
		b.WriteString(s[:i+3])
		rest := s[i+3 : end]
		host := rest
		if slash := strings.IndexAny(rest, "/?#"); slash >= 0 {
			host = rest[:slash]
		}
		if at := strings.LastIndex(host, "@"); at >= 0 {
			b.WriteString("<redacted>")
			rest = rest[at:]
		}
		if q := strings.IndexAny(rest, "?#"); q >= 0 {
			rest = rest[:q+1] + "<redacted>"
		}
		b.WriteString(rest)
		s = s[end:]
	}
}

// done hands rec to Options.Done with its duration filled in.
func (a *Agent) done(rec RequestRecord, writeErr error) {
	if a.opts.Done == nil {
		return
	}
	rec.Duration = time.Since(rec.Received)
	if writeErr != nil {
		rec.WriteError = clip(writeErr.Error(), maxRecordMessage)
	}
	a.opts.Done(rec)
}

// serve answers one request: read, dispatch, write the reply, then remove
// the request, so a crash in between cannot lose the reply. A command never
// runs twice: its reply is kept until written, and its id is remembered.
func (a *Agent) serve(ctx context.Context, id string) error {
	reqPath, replyPath := hostDir+"/"+id, guestDir+"/"+id
	if a.queue.isDone(id) {
		// Answered earlier but the removal failed: only remove.
		return a.remove(ctx, id, reqPath)
	}
	ans, ok := a.unsent[id]
	if !ok {
		received := time.Now()
		raw, err := a.store.Read(ctx, reqPath)
		if errors.Is(err, fs.ErrNotExist) {
			a.queue.forget(id) // the host timed out and took it back
			return nil
		}
		if err != nil {
			return err
		}
		name, res, after := a.handle(ctx, id, raw)
		ans = answer{reply: res.encode(), after: after, rec: newRecord(id, name, received, res)}
		a.unsent[id] = ans
	}
	if err := a.store.Write(ctx, replyPath, ans.reply); err != nil {
		if !ans.failReported && ctx.Err() == nil {
			ans.failReported = true
			a.unsent[id] = ans
			a.done(ans.rec, err)
		}
		return err
	}
	delete(a.unsent, id)
	a.queue.markDone(id)
	a.done(ans.rec, nil)
	err := a.remove(ctx, id, reqPath)
	if ans.after != nil {
		ans.after() // the reply is out; a failed removal is retried later
	}
	return err
}

func (a *Agent) remove(ctx context.Context, id, path string) error {
	err := a.store.Remove(ctx, path)
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		a.queue.forget(id)
		return nil
	}
	return err
}

// pruneUnsent drops replies whose request the host has taken back, so
// unsent stays bounded by the number of listed requests.
func (a *Agent) pruneUnsent(pending []string) {
	if len(a.unsent) == 0 {
		return
	}
	listed := make(map[string]bool, len(pending))
	for _, id := range pending {
		listed[id] = true
	}
	for id := range a.unsent {
		if !listed[id] {
			delete(a.unsent, id)
		}
	}
}
