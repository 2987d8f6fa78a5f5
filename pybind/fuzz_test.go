package pybind

import (
	"encoding/json"
	"fmt"
	"testing"
)

// Fuzz targets for every function that takes JSON from Python: any input gives an
// answer or an error, never a panic (a panic would be turned into an error by guard,
// so the targets also check that no answer is an "internal error") and never a state
// that breaks the next call.

func noInternal(t *testing.T, err error) {
	if err != nil && contains(err.Error(), "internal error") {
		t.Fatalf("panic at the boundary: %v", err)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func FuzzExecutorOptions(f *testing.F) {
	f.Add(`{"timeout": 30, "default_policy": "allow"}`)
	f.Add(`{"timeout": 1e308}`)
	f.Add(`{"default_policy": null}`)
	f.Fuzz(func(t *testing.T, opts string) {
		id, err := ExecutorNew(opts)
		noInternal(t, err)
		if err == nil {
			_, err = ExecutorUpdate(id, opts)
			noInternal(t, err)
			_, _ = ExecutorRelease(id)
		}
	})
}

func FuzzRefRegister(f *testing.F) {
	f.Add(refInfoDoc("a", "sequential", "fail", 1, 0))
	f.Add(`{"uuid":"u","name":"n","kind":"k","mode":"audit","on_error":"fail","conditions":[{"tools":null,"server_ids":["s"]}],"config":["x"]}`)
	f.Add(`{"uuid":"u","name":"n","mode":"audit","on_error":"fail","priority":"1"}`)
	exec, _ := ExecutorNew(`{}`)
	f.Fuzz(func(t *testing.T, info string) {
		id, err := RefRegister(info)
		noInternal(t, err)
		if err != nil {
			return
		}
		ans, err := PlanGet(exec, "tool_pre_invoke", fmt.Sprint(id), "null")
		noInternal(t, err)
		if err == nil {
			var p struct{ Plan int }
			if json.Unmarshal([]byte(ans), &p) == nil {
				step, err := RunStart(p.Plan, plainFacts)
				noInternal(t, err)
				var s struct{ Run int }
				if err == nil && json.Unmarshal([]byte(step), &s) == nil {
					_, _ = RunAbort(s.Run)
				}
			}
		}
		_, _ = RefRelease(id)
	})
}

func FuzzGoPluginNew(f *testing.F) {
	f.Add(`{"name":"g","kind":"builtin/noop","hooks":["tool_pre_invoke"],"config":{}}`)
	f.Add(`{"name":"g","kind":"builtin/noop","config":{"x":[1,{"y":2.5}]}}`)
	f.Fuzz(func(t *testing.T, spec string) {
		id, err := GoPluginNew(spec)
		noInternal(t, err)
		if err == nil {
			_, err = GoPluginInvoke(id, "tool_pre_invoke", `{"name":"x"}`, `{}`)
			noInternal(t, err)
			_, _ = GoPluginRelease(id)
		}
	})
}

func FuzzGoPluginInvoke(f *testing.F) {
	f.Add(`{"name":"x","args":{"a":1}}`, `{"rid":"r","user":"u"}`)
	f.Add(`[]`, `{"user":{"keys":["k"],"values":{"k":{"json":"[1]"}}}}`)
	id, _ := GoPluginNew(`{"name":"g","kind":"builtin/noop"}`)
	f.Fuzz(func(t *testing.T, payload, facts string) {
		_, err := GoPluginInvoke(id, "tool_pre_invoke", payload, facts)
		noInternal(t, err)
	})
}

func FuzzPlanGet(f *testing.F) {
	f.Add("1,2", `["args"]`, "tool_pre_invoke")
	f.Add("", "null", "custom")
	f.Add(" 3 ,x", `[1]`, "")
	exec, _ := ExecutorNew(`{}`)
	ref, _ := RefRegister(refInfoDoc("a", "sequential", "fail", 1, 0))
	f.Fuzz(func(t *testing.T, refs, policy, hook string) {
		_, err := PlanGet(exec, hook, refs, policy)
		noInternal(t, err)
		_, err = PlanGet(exec, hook, fmt.Sprint(ref), policy)
		noInternal(t, err)
	})
}

// FuzzRunProtocol drives a run with fuzzed facts, outcomes and payloads: whatever
// arrives, the run answers or errors, and a run that errored on bad input still
// accepts a good outcome.
func FuzzRunProtocol(f *testing.F) {
	f.Add(plainFacts, `{"i":0,"st":"ok","cont":true,"ret":"payload","ext":0,"viol":null,"retry":0,"dur":1,"str":"","repr":""}`, `{"name":"x"}`)
	f.Add(`{"user":{"keys":["a"]},"size":["args",5],"pool":2,"trace":true}`, `{"i":0,"st":"vexc","viol":{"reason":1,"code":null}}`, `[1,2]`)
	f.Add(`{}`, `{"i":-1}`, `"s"`)
	f.Add(plainFacts, `{"i":0,"st":"traise","str":"TimeoutError()","repr":"TimeoutError()"}`, `{}`)
	exec, _ := ExecutorNew(`{"timeout": 1}`)
	goID, _ := GoPluginNew(`{"name":"g","kind":"builtin/noop"}`)
	py, _ := RefRegister(refInfoDoc("py", "sequential", "ignore", 1, 0))
	g, _ := RefRegister(refInfoDoc("g", "transform", "fail", 2, goID))
	c, _ := RefRegister(refInfoDoc("c", "concurrent", "disable", 3, 0))
	ans, _ := PlanGet(exec, "tool_pre_invoke", fmt.Sprintf("%d,%d,%d", py, g, c), `["args"]`)
	var p struct{ Plan int }
	_ = json.Unmarshal([]byte(ans), &p)
	f.Fuzz(func(t *testing.T, facts, outcome, payload string) {
		if single, err := RunSingle(exec, py, facts); err == nil {
			var s struct{ Run int }
			if json.Unmarshal([]byte(single), &s) != nil {
				t.Fatalf("answer is not JSON: %s", single)
			}
			_, err = RunReport(s.Run, outcome)
			noInternal(t, err)
			_, _ = RunAbort(s.Run)
		} else {
			noInternal(t, err)
		}
		step, err := RunStart(p.Plan, facts)
		noInternal(t, err)
		if err != nil {
			return
		}
		var s struct {
			Run int
			Op  string
		}
		if json.Unmarshal([]byte(step), &s) != nil {
			t.Fatalf("answer is not JSON: %s", step)
		}
		defer func() { _, _ = RunAbort(s.Run) }()
		for k := 0; k < 6 && (s.Op == "call" || s.Op == "go" || s.Op == "concurrent" || s.Op == "next"); k++ {
			var next string
			if s.Op == "go" {
				next, err = RunGo(s.Run, payload)
				noInternal(t, err)
				if err != nil {
					next, err = RunGo(s.Run, `{"name":"x"}`)
				}
			} else {
				next, err = RunReport(s.Run, outcome)
				noInternal(t, err)
				if err != nil {
					return
				}
			}
			if err != nil {
				t.Fatalf("a good payload after a bad one failed: %v", err)
			}
			if !json.Valid([]byte(next)) {
				t.Fatalf("answer is not JSON: %s", next)
			}
			_ = json.Unmarshal([]byte(next), &s)
		}
	})
}

func FuzzMCPServerOptions(f *testing.F) {
	f.Add(`{"transport":"http","host":"127.0.0.1","port":0,"configs":[{"name":"P"}],"tls":{"certfile":"c","ssl_cert_reqs":2}}`)
	f.Add(`{"transport":"stdio","configs":[]}`)
	f.Add(`{"transport":"http","port":-1,"configs":[{"name":3}]}`)
	f.Add(`{"transport":"grpc","host":"127.0.0.1","port":0,"uds":"/tmp/s","configs":[],"tls":{"certfile":"c","client_auth":"optional"}}`)
	f.Add(`{"transport":"unix","path":"/tmp/u.sock","configs":[{"name":"P"}]}`)
	f.Fuzz(func(t *testing.T, opts string) {
		// the checks only: binding and serving are MCPServerStart's, tested on their own
		o, err := serverOptsFrom(opts)
		noInternal(t, err)
		if err != nil {
			return
		}
		switch o.Transport {
		case "stdio", "http", "grpc":
		case "unix":
			if o.Path == "" {
				t.Fatal("accepted the unix transport without a path")
			}
		default:
			t.Fatalf("accepted transport %q", o.Transport)
		}
	})
}
