package pybind

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestHeapFloorBytes(t *testing.T) {
	const mb = 1 << 20
	cases := []struct {
		name string
		env  map[string]string
		want int
	}{
		{"default", nil, defaultHeapFloorMB * mb},
		{"sized", map[string]string{"CPEX_GO_HEAP_FLOOR_MB": "32"}, 32 * mb},
		{"off", map[string]string{"CPEX_GO_HEAP_FLOOR_MB": "0"}, 0},
		{"GOGC set: the process tunes the collector", map[string]string{"GOGC": "200"}, 0},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "1GiB", "CPEX_GO_HEAP_FLOOR_MB": "32"}, 0},
		{"not a number keeps the default", map[string]string{"CPEX_GO_HEAP_FLOOR_MB": "lots"}, defaultHeapFloorMB * mb},
		{"negative keeps the default", map[string]string{"CPEX_GO_HEAP_FLOOR_MB": "-1"}, defaultHeapFloorMB * mb},
		{"beyond 1 GiB keeps the default", map[string]string{"CPEX_GO_HEAP_FLOOR_MB": "4096"}, defaultHeapFloorMB * mb},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, heapFloorBytes(func(k string) string { return c.env[k] }))
		})
	}
}
