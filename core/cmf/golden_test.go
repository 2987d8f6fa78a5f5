package cmf_test

import (
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core/cmf"
)

// goldens.json is produced by scripts/cmf_goldens.py under upstream cpex 0.1.4.
type golden struct {
	Name   string          `json:"name"`
	Input  json.RawMessage `json:"input"`
	JSON   json.RawMessage `json:"json"`
	Errors []struct {
		Type string `json:"type"`
		Loc  []any  `json:"loc"`
	} `json:"errors"`
	Raises *struct {
		Msg string `json:"msg"`
	} `json:"raises"`
}

func loadGoldens(t *testing.T) []golden {
	t.Helper()
	data, err := os.ReadFile("../../tests/py/cmf/goldens.json")
	require.NoError(t, err)
	var gs []golden
	require.NoError(t, json.Unmarshal(data, &gs))
	require.NotEmpty(t, gs)
	return gs
}

func normalize(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(data, &v))
	return v
}

func locStrings(loc []any) []string {
	out := make([]string, len(loc))
	for i, e := range loc {
		switch x := e.(type) {
		case string:
			out[i] = x
		case float64:
			out[i] = json.Number(jsonInt(x)).String()
		}
	}
	return out
}

func jsonInt(f float64) string { b, _ := json.Marshal(int64(f)); return string(b) }

func TestGoldensRoundTrip(t *testing.T) {
	for _, g := range loadGoldens(t) {
		t.Run(g.Name, func(t *testing.T) {
			m, err := cmf.Decode(g.Input)
			switch {
			case g.Raises != nil:
				var ve *cmf.ValidationError
				require.ErrorAs(t, err, &ve)
				assert.Equal(t, g.Raises.Msg, ve.Msg)
			case len(g.Errors) > 0:
				var ve *cmf.ValidationError
				require.ErrorAs(t, err, &ve)
				assert.True(t, errors.Is(err, cmf.ErrInvalidMessage))
				// pydantic lists every error; Go stops at the first, which must be pydantic's first.
				assert.Equal(t, g.Errors[0].Type, ve.Type)
				assert.Equal(t, locStrings(g.Errors[0].Loc), ve.Loc)
			default:
				require.NoError(t, err)
				out, err := json.Marshal(m)
				require.NoError(t, err)
				assert.Equal(t, normalize(t, g.JSON), normalize(t, out))
				// And the dump decodes to the same message.
				again, err := cmf.Decode(out)
				require.NoError(t, err)
				out2, err := json.Marshal(again)
				require.NoError(t, err)
				assert.JSONEq(t, string(out), string(out2))
			}
		})
	}
}
