package pybind

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
)

// The user fact: a string, a dict user's keys, or (protocol change 01:25) its keys and
// scalar values.
func TestParseUser(t *testing.T) {
	cases := []struct {
		name    string
		raw     string
		want    core.Facts
		wantErr string
	}{
		{"null", `null`, core.Facts{}, ""},
		{"string", `"alice"`, core.Facts{User: "alice", UserSet: true}, ""},
		{"keys only (old shape)", `{"keys": ["email", "id"]}`,
			core.Facts{UserKeys: []string{"email", "id"}, UserIsKeys: true, UserSet: true}, ""},
		{"keys and values", `{"keys": ["email", "id", "admin", "x"], "values": {"email": "a@x", "id": 42, "admin": true, "x": null}}`,
			core.Facts{UserKeys: []string{"email", "id", "admin", "x"}, UserIsKeys: true, UserSet: true,
				UserValues: map[string]any{"email": "a@x", "id": float64(42), "admin": true, "x": nil}}, ""},
		{"values null", `{"keys": ["email"], "values": null}`,
			core.Facts{UserKeys: []string{"email"}, UserIsKeys: true, UserSet: true}, ""},
		{"empty dict user", `{"keys": [], "values": {}}`,
			core.Facts{UserKeys: []string{}, UserIsKeys: true, UserSet: true}, ""},
		{"value not scalar", `{"keys": ["roles"], "values": {"roles": ["a"]}}`, core.Facts{}, `F: facts.user.values.roles: want a string, number, bool or null (got "[\"a\"]")`},
		{"value object", `{"keys": ["o"], "values": {"o": {}}}`, core.Facts{}, `facts.user.values.o`},
		{"value key not in keys", `{"keys": ["email"], "values": {"id": 1}}`, core.Facts{}, `F: facts.user.values: key "id" is not in facts.user.keys`},
		{"values not an object", `{"keys": ["email"], "values": 3}`, core.Facts{}, `F: facts.user: want a string`},
		{"no keys", `{"values": {}}`, core.Facts{}, `F: facts.user: want a string`},
		{"number user", `12`, core.Facts{}, `F: facts.user: want a string`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var f core.Facts
			err := parseUser("F", json.RawMessage(tc.raw), &f)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, f)
		})
	}
}

// A dict user's values reach the Go plugins of a Python-driven run: the rate limiter
// counts each user separately instead of skipping its user dimension.
func TestDictUserValuesReachGoPlugins(t *testing.T) {
	exec := mustExec(t)
	goID, err := GoPluginNew(`{"name":"rl","kind":"builtin/rate_limiter","hooks":["tool_pre_invoke"],"config":{"by_user":"1/m"}}`)
	require.NoError(t, err)
	defer func() { _, _ = GoPluginRelease(goID) }()
	rl := mustRef(t, "rl", "sequential", "fail", 1, goID)
	p := int(plan(t, exec, "tool_pre_invoke", "null", rl)["plan"].(float64))
	call := func(user string) map[string]any {
		facts := `{"rid":"r1","server_id":null,"tenant_id":null,"content_type":null,"user":` + user +
			`,"match":"search","size":null,"pool":10,"vexc":false,"trace":false,"ext":false}`
		step := decode(t, must(RunStart(p, facts)))
		require.Equal(t, "go", step["op"])
		return decode(t, must(RunGo(int(step["run"].(float64)), `{"name":"search","args":{}}`)))
	}
	alice := `{"keys":["email","roles"],"values":{"email":"alice@x"}}`
	assert.Equal(t, true, call(alice)["cont"])
	assert.Equal(t, false, call(alice)["cont"], "alice's second call in the minute is over her limit")
	assert.Equal(t, true, call(`{"keys":["email"],"values":{"email":"bob@x"}}`)["cont"], "bob has his own counter")
	assert.Equal(t, true, call(`{"keys":["email"]}`)["cont"], "keys only: the user dimension is skipped")
	assert.Equal(t, true, call(`{"keys":["email"]}`)["cont"])
}

func FuzzParseUser(f *testing.F) {
	for _, s := range []string{`null`, `"u"`, `{"keys":["a"]}`, `{"keys":["a"],"values":{"a":1}}`, `{"keys":["a"],"values":{"a":[1]}}`, `{"keys":[],"values":{"b":"x"}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var facts core.Facts
		if err := parseUser("F", json.RawMessage(raw), &facts); err != nil {
			return
		}
		for k, v := range facts.UserValues {
			assert.Contains(t, facts.UserKeys, k)
			switch v.(type) {
			case nil, string, float64, bool:
			default:
				t.Fatalf("non-scalar value %T for %q", v, k)
			}
		}
	})
}
