package cmf_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core/cmf"
)

// FuzzDecode: any input either fails with a ValidationError or decodes to a message whose
// dump decodes again to the same dump.
func FuzzDecode(f *testing.F) {
	if data, err := os.ReadFile("../../tests/py/cmf/goldens.json"); err == nil {
		var gs []struct {
			Input json.RawMessage `json:"input"`
		}
		if json.Unmarshal(data, &gs) == nil {
			for _, g := range gs {
				f.Add([]byte(g.Input))
			}
		}
	}
	f.Add([]byte(`{"role":"user","content":[{"content_type":"text","text":"x"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := cmf.Decode(data)
		if err != nil {
			var ve *cmf.ValidationError
			require.ErrorAs(t, err, &ve)
			return
		}
		out, err := json.Marshal(m)
		require.NoError(t, err)
		again, err := cmf.Decode(out)
		require.NoError(t, err)
		out2, err := json.Marshal(again)
		require.NoError(t, err)
		require.JSONEq(t, string(out), string(out2))
	})
}
