package config

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNormalizeNumbers(t *testing.T) {
	in := map[string]any{
		"i": json.Number("42"), "f": json.Number("1.5"), "big": json.Number("1e400"),
		"s": "x", "nested": map[string]any{"n": json.Number("-7")},
		"list": []any{json.Number("3"), "y", []any{json.Number("0.25")}},
	}
	out := NormalizeNumbers(in)
	assert.Equal(t, 42, out["i"])
	assert.Equal(t, 1.5, out["f"])
	assert.True(t, math.IsInf(out["big"].(float64), 1), "beyond float64: +Inf, as strconv.ParseFloat answers")
	assert.Equal(t, "x", out["s"])
	assert.Equal(t, map[string]any{"n": -7}, out["nested"])
	assert.Equal(t, []any{3, "y", []any{0.25}}, out["list"])
	assert.Equal(t, json.Number("42"), in["i"], "the input is not changed")
	assert.Nil(t, NormalizeNumbers(nil))
}
