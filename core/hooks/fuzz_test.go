package hooks_test

import (
	"encoding/json"
	"testing"

	"github.com/cpex-go/cpex/core/hooks"
)

// FuzzDecodeHook feeds arbitrary bytes to every hook's decoder: it must never
// panic, and whatever it accepts must re-encode to JSON that decodes to an equal
// document (the fixed point of a round trip).
func FuzzDecodeHook(f *testing.F) {
	seeds := []string{
		`{"name":"t","args":{"a":1},"headers":{"h":"v"}}`,
		`{"name":"t","result":{"content":[]}}`,
		`{"prompt_id":"p","args":{"a":"b"}}`,
		`{"uri":"u","content":null}`,
		`{"agent_id":"a","messages":[{"role":"user"}],"tools":["x"]}`,
		`{"path":"/","method":"GET","headers":{},"client_port":80}`,
		`{"user_email":"e","permission":"p","is_admin":true}`,
		`{"headers":{},"credentials":{"k":[1,2]}}`,
		`[]`, `null`, `{"name":1e400}`, `{"a":"\ud800"}`,
	}
	names := append(hooks.Builtin(), "custom_hook")
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s))
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		hook := names[int(which)%len(names)]
		v, err := hooks.DecodeHook(hook, data)
		if err != nil {
			return
		}
		first, err := hooks.Marshal(v)
		if err != nil {
			t.Fatalf("%s: accepted %q but cannot encode it: %v", hook, data, err)
		}
		again, err := hooks.DecodeHook(hook, first)
		if err != nil {
			t.Fatalf("%s: own output %s rejected: %v", hook, first, err)
		}
		second, err := hooks.Marshal(again)
		if err != nil {
			t.Fatalf("%s: re-encode: %v", hook, err)
		}
		if !json.Valid(first) || !json.Valid(second) {
			t.Fatalf("%s: output is not JSON: %s / %s", hook, first, second)
		}
		if string(first) != string(second) {
			t.Fatalf("%s: round trip changed the document:\n%s\n%s", hook, first, second)
		}
	})
}
