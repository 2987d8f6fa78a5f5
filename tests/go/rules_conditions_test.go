package core_test

// Spec §12 (conditions and matching) and §30.12, §30.23.

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/cpex-go/cpex/core"
)

func TestRuleConditions(t *testing.T) {
	type ctxFacts struct {
		server, tenant, contentType string
		user                        any
	}
	base := ctxFacts{server: "srv1", tenant: "team1", contentType: "application/json", user: "alice@example.com"}
	cases := []struct {
		name       string
		hook       string
		conditions string
		payload    map[string]any
		facts      ctxFacts
		runs       bool
	}{
		{"no conditions always run", "", "[]", nil, base, true},
		{"server id matches", "", "[{server_ids: [srv1, srv2]}]", nil, base, true},
		{"server id differs", "", "[{server_ids: [srv2]}]", nil, base, false},
		{"missing server id fails", "", "[{server_ids: [srv1]}]", nil, ctxFacts{}, false},
		{"tenant id", "", "[{tenant_ids: [team1]}]", nil, base, true},
		{"tenant id differs", "", "[{tenant_ids: [team2]}]", nil, base, false},
		{"empty set is no constraint", "", "[{server_ids: [], tools: []}]", nil, ctxFacts{}, true},
		{"content type normalised on both sides", "", `[{content_types: ["Application/JSON; charset=utf-8"]}]`, nil,
			ctxFacts{contentType: " APPLICATION/json ; q=1"}, true},
		{"content type differs", "", "[{content_types: [text/plain]}]", nil, base, false},
		{"content type missing fails", "", "[{content_types: [application/json]}]", nil, ctxFacts{}, false},
		{"blank content type fails", "", "[{content_types: [application/json]}]", nil, ctxFacts{contentType: "   "}, false},
		{"user pattern is a substring", "", "[{user_patterns: [example.com]}]", nil, base, true},
		{"user pattern is not a regex", "", `[{user_patterns: ["alice.*"]}]`, nil, base, false},
		{"user pattern on a dict user is key membership", "", "[{user_patterns: [email]}]", nil,
			ctxFacts{user: map[string]any{"email": "x", "id": 1}}, true},
		{"dict user without the key", "", "[{user_patterns: [admin]}]", nil,
			ctxFacts{user: map[string]any{"email": "admin"}}, false},
		{"no user fails a user pattern", "", "[{user_patterns: [a]}]", nil, ctxFacts{}, false},
		{"tool name matches", "", "[{tools: [web_search]}]", map[string]any{"name": "web_search"}, base, true},
		{"tool name differs", "", "[{tools: [web_search]}]", map[string]any{"name": "calc"}, base, false},
		{"empty tool name does not exclude", "", "[{tools: [web_search]}]", map[string]any{"name": ""}, base, true},
		{"prompts ignored for tool hooks", "", "[{prompts: [greet]}]", map[string]any{"name": "calc"}, base, true},
		{"AND within a condition", "", "[{tools: [calc], server_ids: [other]}]", map[string]any{"name": "calc"}, base, false},
		{"OR across conditions", "", "[{server_ids: [other]}, {tools: [calc]}]", map[string]any{"name": "calc"}, base, true},
		{"prompt id", "prompt_pre_fetch", "[{prompts: [greet]}]", map[string]any{"prompt_id": "greet", "args": map[string]any{}}, base, true},
		{"prompt id differs", "prompt_post_fetch", "[{prompts: [greet]}]", map[string]any{"prompt_id": "bye", "result": nil}, base, false},
		{"resource uri", "resource_pre_fetch", `[{resources: ["file:///a"]}]`, map[string]any{"uri": "file:///b", "metadata": map[string]any{}}, base, false},
		{"agent id", "agent_pre_invoke", "[{agents: [a1]}]", map[string]any{"agent_id": "a1", "messages": []any{}}, base, true},
		{"agent id differs", "agent_post_invoke", "[{agents: [a1]}]", map[string]any{"agent_id": "a2", "messages": []any{}}, base, false},
		{"http hooks check only the context", "http_pre_request", "[{tools: [x]}]", map[string]any{"path": "/", "method": "GET", "headers": map[string]any{}}, base, true},
		{"http hooks with a context condition", "http_pre_request", "[{tenant_ids: [other]}]", map[string]any{"path": "/", "method": "GET", "headers": map[string]any{}}, base, false},
		{"custom hook", "my_custom_hook", "[{tools: [x], server_ids: [srv1]}]", map[string]any{"name": "y"}, base, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hook := c.hook
			if hook == "" {
				hook = "tool_pre_invoke"
			}
			id, rec := newRecorder()
			m := newManager(t, id, []plugin{{name: "p", hooks: "[" + hook + "]", extra: "conditions: " + c.conditions}})
			payload := c.payload
			if payload == nil {
				payload = map[string]any{"name": "t", "args": map[string]any{}}
			}
			g := &core.GlobalContext{RequestID: "r", ServerID: c.facts.server, TenantID: c.facts.tenant,
				ContentType: c.facts.contentType, User: c.facts.user}
			invoke(t, m, hook, core.NewPayloadValue(payload), g, nil)
			if c.runs {
				assert.Equal(t, []string{"p"}, rec.names())
			} else {
				assert.Empty(t, rec.names())
			}
		})
	}
}

// §30.12: conditions are evaluated once against the original payload.
func TestRuleConditionsUseTheOriginalPayload(t *testing.T) {
	id, rec := newRecorder()
	m := newManager(t, id, []plugin{
		{name: "renamer", priority: 1, script: "set: {name: other_tool}"},
		{name: "scoped", priority: 2, extra: "conditions: [{tools: [web_search]}]"},
		{name: "scoped_other", priority: 3, extra: "conditions: [{tools: [other_tool]}]"},
	})
	invoke(t, m, "tool_pre_invoke", toolPayload("web_search", nil), gctx("r"), nil)
	assert.Equal(t, []string{"renamer", "scoped"}, rec.names())
	assert.Equal(t, "other_tool", rec.byName("scoped")[0].Payload["name"], "it still sees the chained payload")
}
