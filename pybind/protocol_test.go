package pybind

import (
	"encoding/json"
	"fmt"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
)

func TestProtocolAnswersVersionAndCoreConstants(t *testing.T) {
	ans, err := Protocol()
	require.NoError(t, err)
	assert.JSONEq(t, fmt.Sprintf(`{"version":%d,"decision_key":"_decision_plugin","plan_cache":%d}`, ProtocolVersion, core.MaxCachedPlans), ans)
}

func TestPolicyDecideIsCoresDecision(t *testing.T) {
	ans, err := PolicyDecide(`["name","args","zeta"]`, `["args"]`)
	require.NoError(t, err)
	assert.JSONEq(t, `{"accept":["args"],"warning":"Policy rejected modifications to non-writable fields: ['name', 'zeta']"}`, ans)
	ans, err = PolicyDecide(`["args"]`, `["args"]`)
	require.NoError(t, err)
	assert.JSONEq(t, `{"accept":["args"],"warning":null}`, ans)
	_, err = PolicyDecide(`{`, `[]`)
	assert.ErrorContains(t, err, "PolicyDecide: changed")
	_, err = PolicyDecide(`[]`, `[1]`)
	assert.ErrorContains(t, err, "PolicyDecide: writable")
}

func TestRunGoUnreadableRaisesTheFirstGoPluginsError(t *testing.T) {
	exec := mustExec(t)
	goID, err := GoPluginNew(`{"name":"g","kind":"builtin/noop","hooks":["tool_pre_invoke"],"config":{}}`)
	require.NoError(t, err)
	defer func() { _, _ = GoPluginRelease(goID) }()
	g := mustRef(t, "g", "sequential", "ignore", 1, goID)
	p := plan(t, exec, "tool_pre_invoke", "null", g)
	step := decode(t, must(RunStart(int(p["plan"].(float64)), plainFacts)))
	require.Equal(t, "go", step["op"])
	run := int(step["run"].(float64))
	ans, err := RunGoUnreadable(run, `{"field":"args","circular":true,"cause":"ValueError: Circular reference detected"}`)
	require.NoError(t, err)
	raise := decode(t, ans)
	assert.Equal(t, "raise", raise["op"])
	assert.Equal(t, "error", raise["kind"], "on_error ignore does not make an unreadable payload an allow")
	assert.Equal(t, "Plugin g: field 'args' cannot be encoded as JSON for Go plugins (circular reference)", raise["message"])
	_, err = RunGoUnreadable(run, `{}`)
	assert.Error(t, err, "the run has ended")

	step = decode(t, must(RunStart(int(p["plan"].(float64)), plainFacts)))
	ans, err = RunGoUnreadable(int(step["run"].(float64)), `{"field":null,"circular":false,"cause":"RecursionError: too deep"}`)
	require.NoError(t, err)
	assert.Equal(t, "Plugin g: the payload cannot be encoded as JSON for Go plugins (RecursionError: too deep)", decode(t, ans)["message"])
}

// Plans handed to the host are mirrored by pybind's handle table and the host's cache:
// under churn (a new registration per request) none of them may grow past the core's
// bound, and every flush is announced so the host empties its cache with the core.
func TestPlanTablesDoNotGrowUnderChurn(t *testing.T) {
	exec := mustExec(t)
	e, err := st.executor("test", "exec", exec)
	require.NoError(t, err)
	flushes := 0
	for k := 0; k < core.MaxCachedPlans+50; k++ {
		ref := mustRef(t, "churn"+strconv.Itoa(k), "sequential", "ignore", 1, 0)
		ans, err := PlanGet(exec, "tool_pre_invoke", strconv.Itoa(ref), "null")
		require.NoError(t, err)
		var a struct {
			Flush bool `json:"flush"`
		}
		require.NoError(t, json.Unmarshal([]byte(ans), &a))
		if a.Flush {
			flushes++
		}
	}
	assert.Equal(t, 1, flushes)
	st.mu.Lock()
	defer st.mu.Unlock()
	assert.LessOrEqual(t, len(e.plans), core.MaxCachedPlans)
	assert.Less(t, len(e.plans), 100, "the flush emptied the table; only the plans since are left")
	n := 0
	for _, p := range st.plans {
		if p.exec == e {
			n++
		}
	}
	assert.Equal(t, len(e.plans), n)
}

// The same plan asked for again (the host keys its cache by its own policy objects)
// counts as handed out too: the host's cache is bounded even when the core's is not full.
func TestPlanTablesFlushWhenTheHostCacheFills(t *testing.T) {
	exec := mustExec(t)
	ref := mustRef(t, "same", "sequential", "ignore", 1, 0)
	flushes := 0
	for k := 0; k < core.MaxCachedPlans+1; k++ {
		ans, err := PlanGet(exec, "tool_pre_invoke", strconv.Itoa(ref), `["args"]`)
		require.NoError(t, err)
		if decode(t, ans)["flush"] == true {
			flushes++
		}
	}
	assert.Equal(t, 1, flushes)
}
