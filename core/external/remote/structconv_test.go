package remote

import (
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

func TestNumbersAcrossAStruct(t *testing.T) {
	cases := []struct {
		name string
		in   any
		out  any    // what comes back out of the Struct
		err  string // a RangeError's value, when refused
	}{
		{"small integer", json.Number("42"), json.Number("42"), ""},
		{"negative integer", json.Number("-7"), json.Number("-7"), ""},
		{"2^53 is exact", json.Number("9007199254740992"), json.Number("9007199254740992"), ""},
		{"-2^53 is exact", json.Number("-9007199254740992"), json.Number("-9007199254740992"), ""},
		{"2^53+1 is refused", json.Number("9007199254740993"), nil, "9007199254740993"},
		{"beyond int64 is refused", json.Number("123456789012345678901234567890"), nil, "123456789012345678901234567890"},
		{"a Go int64 beyond 2^53 is refused", int64(1) << 60, nil, "1152921504606846976"},
		{"a Go uint64 beyond 2^53 is refused", uint64(1) << 63, nil, "9223372036854775808"},
		{"a float keeps its value", json.Number("1.5"), json.Number("1.5"), ""},
		{"an integral float literal comes back as an integer", json.Number("2.0"), json.Number("2"), ""},
		{"a big float stays a float", json.Number("1e300"), json.Number("1e+300"), ""},
		{"float64 in a Go tree", 0.25, json.Number("0.25"), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := ToValue(c.in, "payload.n")
			if c.err != "" {
				var re *RangeError
				require.True(t, errors.As(err, &re), "%v", err)
				assert.Equal(t, "payload.n", re.Path)
				assert.Equal(t, c.err, re.Value)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.out, FromValue(v))
		})
	}
}

func TestIntegralDoubleBeyond2To53StaysVisiblyAFloat(t *testing.T) {
	// What upstream's json_format makes of 2^53+1: the nearest double.
	got := FromValue(structpb.NewNumberValue(9007199254740994))
	assert.Equal(t, json.Number("9.007199254740994e+15"), got)
	assert.Equal(t, "NaN", FromValue(structpb.NewNumberValue(math.NaN())))
}

func TestValuesOtherThanNumbers(t *testing.T) {
	in := map[string]any{"s": "é", "b": true, "n": nil, "l": []any{json.Number("1"), "x"},
		"m": map[string]any{"k": []any{}}, "typed": map[string]string{"a": "b"}, "ints": []int{1, 2}}
	s, err := ToStruct(in, "payload")
	require.NoError(t, err)
	out := FromStruct(s)
	assert.Equal(t, "é", out["s"])
	assert.Equal(t, true, out["b"])
	assert.Nil(t, out["n"])
	assert.Equal(t, []any{json.Number("1"), "x"}, out["l"])
	assert.Equal(t, map[string]any{"k": []any{}}, out["m"])
	assert.Equal(t, map[string]any{"a": "b"}, out["typed"])
	assert.Equal(t, []any{json.Number("1"), json.Number("2")}, out["ints"])
	assert.Empty(t, FromStruct(nil))
}

func TestRangeErrorPathNamesTheList(t *testing.T) {
	_, err := ToStruct(map[string]any{"ids": []any{json.Number("1"), json.Number("18446744073709551615")}}, "payload")
	assert.ErrorContains(t, err, "payload.ids[1]: the integer 18446744073709551615 is beyond ±2^53")
}

// FuzzStructRoundTrip: a JSON object either converts to a Struct or is refused with an
// error; a converted one converts back and forth to the same Struct (the conversion is
// stable), and never panics.
func FuzzStructRoundTrip(f *testing.F) {
	f.Add(`{"a":1,"b":[1.5,"x",null,true],"c":{"d":9007199254740993}}`)
	f.Add(`{"n":-0,"e":1e400}`)
	f.Add(`{}`)
	f.Fuzz(func(t *testing.T, doc string) {
		var m map[string]any
		if UnmarshalExact([]byte(doc), &m) != nil || m == nil {
			return
		}
		s, err := ToStruct(m, "payload")
		if err != nil {
			return
		}
		again, err := ToStruct(FromStruct(s), "payload")
		require.NoError(t, err)
		require.True(t, proto.Equal(s, again), "%s", doc)
	})
}
