package core_test

// The condition table tests/cases/conditions/matching.yaml against core.MatchConditions;
// tests/py/test_conditions_table.py runs it against cpex.framework.utils.payload_matches.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
)

type matchRow struct {
	Name            string           `yaml:"name"`
	Hook            string           `yaml:"hook"`
	Payload         map[string]any   `yaml:"payload"`
	Context         map[string]any   `yaml:"context"`
	Conditions      []map[string]any `yaml:"conditions"`
	Expect          any              `yaml:"expect"`
	HostDifferences map[string]any   `yaml:"host_differences"`
}

func TestConditionTable(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(casesDir, "conditions", "matching.yaml"))
	require.NoError(t, err)
	var doc struct {
		Matching []matchRow `yaml:"matching"`
	}
	require.NoError(t, yaml.Unmarshal(b, &doc))
	require.GreaterOrEqual(t, len(doc.Matching), 60)
	for _, row := range doc.Matching {
		t.Run(row.Name, func(t *testing.T) {
			if row.Hook == "" {
				row.Hook = "tool_pre_invoke"
			}
			if row.Payload == nil {
				row.Payload = map[string]any{"name": "search"}
			}
			want := row.Expect
			if over, ok := row.HostDifferences["go"].(map[string]any); ok {
				want = over["expect"]
			}
			if row.HostDifferences != nil {
				require.NotEmpty(t, row.HostDifferences["why"], "host_differences needs a why")
			}
			got := core.MatchConditions(parseConditions(t, row), row.Hook, core.NewPayloadValue(row.Payload), caseGlobalContext(row.Context))
			assert.Equal(t, want, got)
		})
	}
}

// parseConditions reads the row's conditions through the config loader, so they are
// normalised (content types) exactly as in a configuration file.
func parseConditions(t *testing.T, row matchRow) []config.PluginCondition {
	t.Helper()
	recID, _ := newRecorder()
	doc, err := json.Marshal(map[string]any{"plugins": []any{map[string]any{
		"name": "p", "kind": scriptKind, "hooks": []string{row.Hook}, "conditions": row.Conditions,
		"config": map[string]any{"rec": recID},
	}}})
	require.NoError(t, err)
	cfg, err := config.Parse(doc, row.Name+".yaml", config.WithTemplating(false))
	require.NoError(t, err)
	return cfg.Plugins[0].Conditions
}
