package pybind

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJSONStringEscaping(t *testing.T) {
	for _, s := range []string{"", "plain", "q\"b\\", "ctl\x00\x1f\n\r\t", "é\u2028✓", "bad\xff\xfe"} {
		var w jw
		w.str(s)
		var back string
		require.NoError(t, json.Unmarshal(w.b, &back), "%q -> %s", s, w.b)
		want, _ := json.Marshal(s)
		var wantBack string
		require.NoError(t, json.Unmarshal(want, &wantBack))
		assert.Equal(t, wantBack, back)
	}
}

func FuzzJSONString(f *testing.F) {
	f.Add("a\"b")
	f.Add("\xff")
	f.Fuzz(func(t *testing.T, s string) {
		var w jw
		w.str(s)
		var back string
		require.NoError(t, json.Unmarshal(w.b, &back))
		want, _ := json.Marshal(s)
		var wantBack string
		require.NoError(t, json.Unmarshal(want, &wantBack))
		assert.Equal(t, wantBack, back)
	})
}

// The hand reader accepts exactly what encoding/json accepts for a flat object.
func FuzzEachMemberAgreesWithEncodingJSON(f *testing.F) {
	f.Add(`{"a":1,"b":"x","c":[1,{"d":null}],"e":true}`)
	f.Add(`{"a":01}`)
	f.Add(`{"a":-}`)
	f.Add(`{"a":"\u00e9\n"} `)
	f.Add(`{} x`)
	f.Fuzz(func(t *testing.T, doc string) {
		got := map[string]string{}
		err := eachMember([]byte(doc), func(k []byte, v []byte) error {
			var x any
			if err := json.Unmarshal(v, &x); err != nil {
				return err
			}
			got[string(k)] = string(v)
			return nil
		})
		var want map[string]any
		werr := json.Unmarshal([]byte(doc), &want)
		if werr != nil {
			require.Error(t, err, "accepted what encoding/json rejects: %q", doc)
			return
		}
		require.NoError(t, err, "rejected what encoding/json accepts: %q", doc)
		require.Len(t, got, len(want))
	})
}
