package core_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core/hooks"
)

// goldenCase is one entry of testdata/hooks_golden.json: an input document for a
// hook and either the Python model's model_dump(mode="json") or error=true.
type goldenCase struct {
	Hook  string          `json:"hook"`
	Name  string          `json:"name"`
	Input json.RawMessage `json:"input"`
	Dump  json.RawMessage `json:"dump"`
	Error bool            `json:"error"`
}

func loadGolden(t *testing.T) []goldenCase {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "hooks_golden.json"))
	require.NoError(t, err)
	var doc struct {
		Source string       `json:"source"`
		Cases  []goldenCase `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	require.NotEmpty(t, doc.Cases)
	t.Logf("golden source: %s", doc.Source)
	return doc.Cases
}

// topLevelKeys lists the keys of a JSON object in document order.
func topLevelKeys(t *testing.T, doc []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(doc))
	tok, err := dec.Token()
	require.NoError(t, err)
	require.Equal(t, json.Delim('{'), tok)
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		require.NoError(t, err)
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		require.NoError(t, dec.Decode(&skip))
	}
	return keys
}

func TestHookPayloadsMatchPythonDumps(t *testing.T) {
	covered := map[string]bool{}
	for _, c := range loadGolden(t) {
		t.Run(c.Hook+"/"+c.Name, func(t *testing.T) {
			covered[c.Hook] = true
			v, err := hooks.DecodeHook(c.Hook, c.Input)
			if c.Error {
				require.Error(t, err, "Python rejects this input")
				assert.True(t, errors.Is(err, hooks.ErrInvalidPayload), "error %v must wrap ErrInvalidPayload", err)
				return
			}
			require.NoError(t, err)
			got, err := hooks.Marshal(v)
			require.NoError(t, err)
			assert.JSONEq(t, string(c.Dump), string(got))
			assert.Equal(t, topLevelKeys(t, c.Dump), topLevelKeys(t, got), "field order of model_dump")

			// The dump is itself a valid input that reproduces itself.
			again, err := hooks.DecodeHook(c.Hook, got)
			require.NoError(t, err)
			gotAgain, err := hooks.Marshal(again)
			require.NoError(t, err)
			assert.Equal(t, string(got), string(gotAgain))
		})
	}
	for _, h := range hooks.Builtin() {
		assert.True(t, covered[h], "no golden case for %s", h)
	}
}

func TestHookPayloadsThroughCorePayload(t *testing.T) {
	for _, c := range loadGolden(t) {
		if c.Error {
			continue
		}
		t.Run(c.Hook+"/"+c.Name, func(t *testing.T) {
			v, err := hooks.DecodeHook(c.Hook, c.Input)
			require.NoError(t, err)
			p, err := hooks.ToPayload(v)
			require.NoError(t, err)
			// A plugin reading the generic tree sees the same document.
			tree, err := p.Value()
			require.NoError(t, err)
			treeJSON, err := json.Marshal(tree)
			require.NoError(t, err)
			assert.JSONEq(t, string(c.Dump), string(treeJSON))
		})
	}
}
