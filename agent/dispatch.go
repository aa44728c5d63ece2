package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// command handles one request value. after, when set, runs once the reply
// has been written (agentupdate re-executes the new binary there).
type command struct {
	run func(a *Agent, ctx context.Context, value json.RawMessage) (res result, after func())
	// advertised reports whether `features` lists the command: only
	// commands that can succeed with the current options are listed.
	advertised func(o *Options) bool
}

func always(*Options) bool { return true }

type namedCommand struct {
	name string
	command
}

// commands is the dispatch table, in the order `features` lists them. It is
// filled in init because `features` reads it (an initialization cycle
// otherwise).
var commands []namedCommand

func init() {
	commands = []namedCommand{
		{"version", command{plain((*Agent).version), always}},
		{"features", command{plain((*Agent).features), always}},
		{"keyinit", command{plain((*Agent).keyInit), always}},
		{"password", command{plain((*Agent).password), always}},
		{"resetnetwork", command{(*Agent).resetNetwork, always}},
		{"injectfile", command{plain((*Agent).injectFile), always}},
		{"file_inject", command{plain((*Agent).fileInject), always}},
		{"agentupdate", command{(*Agent).agentUpdate, func(o *Options) bool { return o.AllowUpdate }}},
		{"kmsactivate", command{plain((*Agent).kmsActivate), func(*Options) bool { return false }}},
	}
}

// plain adapts a handler that needs neither ctx nor an after hook.
func plain(f func(a *Agent, value json.RawMessage) result) func(*Agent, context.Context, json.RawMessage) (result, func()) {
	return func(a *Agent, _ context.Context, v json.RawMessage) (result, func()) { return f(a, v), nil }
}

func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c.command, true
		}
	}
	return command{}, false
}

// handle turns raw request bytes into a reply and names the command ("?"
// when the request has none). It never panics: a panic in a command becomes
// a 500 reply. Only the id, the command name and the return code are
// logged, never values or messages (they may hold secrets).
func (a *Agent) handle(ctx context.Context, id string, raw []byte) (name string, res result, after func()) {
	name = "?"
	defer func() {
		if p := recover(); p != nil {
			a.logf("agent: request %s (%q): internal error: %T", id, clip(name, 64), p)
			res, after = failure("Internal error while running '"+clip(name, 64)+"'"), nil
		}
		a.logf("agent: request %s: %q → %s", id, clip(name, 64), res.Code)
	}()
	req, res, okReq := parseRequest(raw)
	if !okReq {
		return name, res, nil
	}
	name = req.name
	cmd, found := lookup(req.name)
	if !found {
		return name, notFound(req.name), nil
	}
	if a.opts.Refuse != nil {
		if msg := a.opts.Refuse(req.name); msg != "" {
			return name, failure(msg), nil
		}
	}
	res, after = cmd.run(a, ctx, req.value)
	return name, res, after
}

type request struct {
	name  string
	value json.RawMessage // JSON null when absent
}

// parseRequest decodes {"name": ..., "value": ...}; on failure it returns
// the reply the 1.x agent gives for the same mistake.
func parseRequest(raw []byte) (request, result, bool) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(bytes.TrimSpace(raw), &fields); err != nil || fields == nil {
		return request{}, failure("Request is malformed"), false
	}
	var name string
	rawName, has := fields["name"]
	if !has || json.Unmarshal(rawName, &name) != nil || isNull(rawName) {
		return request{}, failure("Request is missing 'name' key"), false
	}
	value := fields["value"]
	if value == nil {
		value = json.RawMessage("null")
	}
	return request{name: name, value: value}, result{}, true
}

func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

// stringValue decodes a value that must be a JSON string; a missing value
// counts as "" like the 1.x agent's default.
func stringValue(cmd string, v json.RawMessage) (string, error) {
	if isNull(v) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", fmt.Errorf("%s: 'value' must be a string, got %s", cmd, jsonKind(v))
	}
	return s, nil
}

// jsonKind names the JSON type of v for error messages (not its content).
func jsonKind(v json.RawMessage) string {
	t := bytes.TrimSpace(v)
	if len(t) == 0 {
		return "nothing"
	}
	switch t[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

func (a *Agent) version(json.RawMessage) result { return ok(a.opts.Version) }

// features lists exactly the commands that can answer success, comma
// separated without spaces: dom0 splits the message on "," untrimmed.
func (a *Agent) features(json.RawMessage) result {
	var names []string
	for _, c := range commands {
		if c.advertised(&a.opts) {
			names = append(names, c.name)
		}
	}
	return ok(strings.Join(names, ","))
}

func (a *Agent) resetNetwork(ctx context.Context, _ json.RawMessage) (result, func()) {
	if err := a.act.ResetNetwork(ctx); err != nil {
		return failure("Couldn't reset network: " + err.Error()), nil
	}
	return ok(""), nil
}

func (a *Agent) kmsActivate(json.RawMessage) result {
	return failure("kmsactivate is not supported by this agent")
}
