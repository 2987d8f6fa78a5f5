package pybind

import (
	"encoding/json"
	"testing"

	"github.com/cpex-go/cpex/core"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVersionIsJSON(t *testing.T) {
	out, err := Version()
	require.NoError(t, err)
	var v map[string]string
	require.NoError(t, json.Unmarshal([]byte(out), &v))
	assert.Equal(t, core.Version, v["core"])
	assert.Contains(t, v["go"], "go1.")
}

func TestEcho(t *testing.T) {
	tests := []struct {
		name, in, want, err string
	}{
		{"object", `{"b":1,"a":[true,null,"x"]}`, `{"a":[true,null,"x"],"b":1}`, ""},
		{"unicode", `"é\u2028"`, `"é\u2028"`, ""},
		{"invalid", `{bad`, "", "echo: invalid JSON"},
		{"empty", ``, "", "echo: invalid JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Echo(tc.in)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.JSONEq(t, tc.want, out)
		})
	}
}

func FuzzEcho(f *testing.F) {
	f.Add(`{"a":1}`)
	f.Add(`[`)
	f.Fuzz(func(t *testing.T, in string) {
		out, err := Echo(in)
		if err != nil {
			return
		}
		again, err := Echo(out)
		require.NoError(t, err)
		assert.Equal(t, out, again)
	})
}
