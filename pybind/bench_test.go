package pybind

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkRunGoTenNoops: a Python run of ten Go no-op plugins (RunStart, one go step).
func BenchmarkRunGoTenNoops(b *testing.B) {
	exec := mustExec(b)
	goID, _ := GoPluginNew(`{"name":"g","kind":"builtin/noop"}`)
	ids := make([]string, 10)
	for i := range ids {
		ids[i] = fmt.Sprint(mustRef(b, fmt.Sprint("g", i), "sequential", "fail", i+1, goID))
	}
	ans, _ := PlanGet(exec, "tool_pre_invoke", strings.Join(ids, ","), "null")
	plan := int(decode(b, ans)["plan"].(float64))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		step, err := RunStart(plan, plainFacts)
		if err != nil {
			b.Fatal(err)
		}
		run := 0
		for _, c := range step[len(`{"run":`):] {
			if c < '0' || c > '9' {
				break
			}
			run = run*10 + int(c-'0')
		}
		if _, err := RunGo(run, `{"name":"search","args":{"q":"x"},"headers":null}`); err != nil {
			b.Fatal(err)
		}
	}
}
