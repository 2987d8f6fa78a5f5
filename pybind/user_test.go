package pybind

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
)

// The user fact: a string, a dict user's keys, or its keys and values (exact: numbers
// as json.Number, other values through {"json": text}).
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
				UserValues: map[string]any{"email": "a@x", "id": json.Number("42"), "admin": true, "x": nil}}, ""},
		{"ids above 2^53 stay exact", `{"keys": ["id"], "values": {"id": 9007199254740993}}`,
			core.Facts{UserKeys: []string{"id"}, UserIsKeys: true, UserSet: true,
				UserValues: map[string]any{"id": json.Number("9007199254740993")}}, ""},
		{"any value through json", `{"keys": ["id", "sub"], "values": {"id": {"json": "1180591620717411303424"}, "sub": {"json": "{\"k\": [1, \"x\"]}"}}}`,
			core.Facts{UserKeys: []string{"id", "sub"}, UserIsKeys: true, UserSet: true,
				UserValues: map[string]any{"id": json.Number("1180591620717411303424"),
					"sub": map[string]any{"k": []any{json.Number("1"), "x"}}}}, ""},
		{"values null", `{"keys": ["email"], "values": null}`,
			core.Facts{UserKeys: []string{"email"}, UserIsKeys: true, UserSet: true}, ""},
		{"empty dict user", `{"keys": [], "values": {}}`,
			core.Facts{UserKeys: []string{}, UserIsKeys: true, UserSet: true}, ""},
		{"raw list", `{"keys": ["roles"], "values": {"roles": ["a"]}}`, core.Facts{}, `F: facts.user.values.roles: want a string, number, bool, null or {"json": text} (got "[\"a\"]")`},
		{"value object", `{"keys": ["o"], "values": {"o": {}}}`, core.Facts{}, `facts.user.values.o`},
		{"json not text", `{"keys": ["o"], "values": {"o": {"json": 1}}}`, core.Facts{}, `facts.user.values.o`},
		{"json extra key", `{"keys": ["o"], "values": {"o": {"json": "1", "x": 1}}}`, core.Facts{}, `facts.user.values.o`},
		{"json invalid", `{"keys": ["o"], "values": {"o": {"json": "[1"}}}`, core.Facts{}, `facts.user.values.o: json:`},
		{"json trailing", `{"keys": ["o"], "values": {"o": {"json": "1 2"}}}`, core.Facts{}, `facts.user.values.o: json: trailing data`},
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
	// ids a float64 cannot tell apart (2^53, 2^53+1) and ids beyond 64 bits each get
	// their own counter (issue 10, item 2)
	for _, id := range []string{`9007199254740992`, `9007199254740993`, `{"json":"1180591620717411303424"}`, `{"json":"1180591620717411303425"}`, `{"json":"[\"x\"]"}`, `{"json":"{\"k\":1}"}`} {
		user := `{"keys":["id"],"values":{"id":` + id + `}}`
		assert.Equal(t, true, call(user)["cont"], id)
		assert.Equal(t, false, call(user)["cont"], "%s: the second call is over the limit (never a skipped dimension)", id)
	}
}

func FuzzParseUser(f *testing.F) {
	for _, s := range []string{`null`, `"u"`, `{"keys":["a"]}`, `{"keys":["a"],"values":{"a":1}}`, `{"keys":["a"],"values":{"a":[1]}}`, `{"keys":["a"],"values":{"a":{"json":"[1,{\"b\":2e400}]"}}}`, `{"keys":[],"values":{"b":"x"}}`} {
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
			case nil, string, json.Number, bool, []any, map[string]any:
			default:
				t.Fatalf("unexpected value %T for %q", v, k)
			}
		}
	})
}
