package callq

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
)

// Queue hands plugin calls to a host that runs the plugins itself (the Python runtime):
// each call waits in the queue until the host Takes it and Answers it. It is the MCP
// server's Backend as it is, and the gRPC and Unix-socket servers' remote.Host through
// remote.QueueHost, so one drain loop in the host serves all three transports. Go never
// calls into the host: notify (called after every enqueue and on Close, from any
// goroutine, must not block) only wakes it, e.g. by writing a byte to a pipe its event
// loop watches. The plugin configurations are the host's, given once, so the two config
// tools never wait for the host.
type Queue struct {
	configs []json.RawMessage
	byName  map[string]json.RawMessage // lower-cased name -> config
	notify  func()

	mu      sync.Mutex
	next    uint64
	pending []*call          // not taken yet, in arrival order
	calls   map[uint64]*call // pending or taken, until answered or abandoned
	closed  bool
}

type call struct {
	id    uint64
	args  *InvokeArgs
	reply chan json.RawMessage // buffered: Answer never blocks
}

// NewQueue checks the host's plugin configurations (JSON objects, each with a string
// "name") and makes the queue.
func NewQueue(configs []json.RawMessage, notify func()) (*Queue, error) {
	q := &Queue{configs: configs, byName: make(map[string]json.RawMessage, len(configs)), notify: notify, calls: map[uint64]*call{}}
	for i, c := range configs {
		var named struct {
			Name *string `json:"name"`
		}
		if err := json.Unmarshal(c, &named); err != nil || named.Name == nil {
			return nil, fmt.Errorf("plugin server: plugin config %d: want a JSON object with a string name, got %s", i, clip(c))
		}
		q.byName[strings.ToLower(*named.Name)] = c
	}
	if q.notify == nil {
		q.notify = func() {}
	}
	return q, nil
}

// PluginConfigs are the host's plugin configurations, in its order.
func (q *Queue) PluginConfigs() []json.RawMessage { return q.configs }

// PluginConfig is the named plugin's configuration (case-insensitive); nil when unknown.
func (q *Queue) PluginConfig(name string) json.RawMessage { return q.byName[strings.ToLower(name)] }

// Invoke queues the call and waits for the host's answer (invoke_hook's whole reply), the
// client giving up (ctx) or Close; the reply's outcome goes with it.
func (q *Queue) Invoke(ctx context.Context, a *InvokeArgs) (json.RawMessage, string) {
	c := &call{args: a, reply: make(chan json.RawMessage, 1)}
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return ErrorReply(a.PluginName, CodeServerClosed, "plugin server: shutting down, the call was not run", nil), OutcomeError
	}
	q.next++
	c.id = q.next
	q.pending = append(q.pending, c)
	q.calls[c.id] = c
	q.mu.Unlock()
	q.notify()
	select {
	case r := <-c.reply:
		return r, outcomeOf(r)
	case <-ctx.Done():
		q.abandon(c.id)
		return ErrorReply(a.PluginName, CodeInternal, "plugin server: the call ended before the plugin answered: "+ctx.Err().Error(), nil), OutcomeError
	}
}

func (q *Queue) abandon(id uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.calls, id)
	for i, c := range q.pending {
		if c.id == id {
			q.pending = append(q.pending[:i], q.pending[i+1:]...)
			break
		}
	}
}

// Taken is one call handed to the host: its id (for Answer) and its checked arguments.
type Taken struct {
	ID uint64 `json:"id"`
	*InvokeArgs
}

// Take hands the host every waiting call (at most max, <= 0: all) and whether the
// queue is closed (the host then stops draining once it has answered what it took).
func (q *Queue) Take(max int) ([]Taken, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := len(q.pending)
	if max > 0 && n > max {
		n = max
	}
	out := make([]Taken, n)
	for i, c := range q.pending[:n] {
		out[i] = Taken{ID: c.id, InvokeArgs: c.args}
	}
	q.pending = append(q.pending[:0], q.pending[n:]...)
	if len(q.pending) > 0 {
		defer q.notify() // the host comes back for the rest
	}
	return out, q.closed
}

// Answer delivers the host's reply to call id; false when nobody waits for it any
// more (the client gave up, or the id is unknown), which is not an error of the host.
func (q *Queue) Answer(id uint64, reply json.RawMessage) bool {
	q.mu.Lock()
	c := q.calls[id]
	delete(q.calls, id)
	q.mu.Unlock()
	if c == nil {
		return false
	}
	c.reply <- reply
	return true
}

// Close answers every waiting call with an error model and refuses new ones.
func (q *Queue) Close() {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.closed = true
	calls := q.calls
	q.calls = map[uint64]*call{}
	q.pending = nil
	q.mu.Unlock()
	for _, c := range calls {
		c.reply <- ErrorReply(c.args.PluginName, CodeServerClosed, "plugin server: shut down before the plugin answered", nil)
	}
	q.notify()
}

// outcomeOf reads a reply's outcome for the metrics (error, blocked or allowed).
func outcomeOf(reply json.RawMessage) string {
	var r struct {
		Error  json.RawMessage `json:"error"`
		Result *struct {
			ContinueProcessing *bool `json:"continue_processing"`
		} `json:"result"`
	}
	if json.Unmarshal(reply, &r) != nil || (len(r.Error) > 0 && string(r.Error) != "null") || r.Result == nil {
		return OutcomeError
	}
	if r.Result.ContinueProcessing != nil && !*r.Result.ContinueProcessing {
		return OutcomeBlocked
	}
	return OutcomeAllowed
}
