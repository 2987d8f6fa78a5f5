package core_test

// Loader of the shared rule cases (tests/cases/*/*.yaml, format in tests/cases/README.md),
// read by this package's runner (cases_test.go) and by tests/py/test_cases.py.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

const casesDir = "../cases"

type casePlugin struct {
	Name       string           `yaml:"name"`
	Mode       string           `yaml:"mode"`
	Priority   *int             `yaml:"priority"`
	OnError    string           `yaml:"on_error"`
	Hooks      []string         `yaml:"hooks"`
	Conditions []map[string]any `yaml:"conditions"`
	Do         map[string]any   `yaml:"do"`
}

type caseOptions struct {
	Timeout            float64             `yaml:"timeout"`
	Policies           map[string][]string `yaml:"policies"`
	DefaultPolicy      string              `yaml:"default_policy"`
	RuntimeDisabled    []string            `yaml:"runtime_disabled"`
	ViolationsAsErrors bool                `yaml:"violations_as_exceptions"`
	CarryTable         bool                `yaml:"carry_table"`
}

type ruleCase struct {
	File            string
	Name            string           `yaml:"name"`
	Spec            string           `yaml:"spec"`
	Hook            string           `yaml:"hook"`
	Payload         map[string]any   `yaml:"payload"`
	Repeat          map[string][]any `yaml:"repeat"`
	Context         map[string]any   `yaml:"context"`
	Options         caseOptions      `yaml:"options"`
	Calls           int              `yaml:"calls"`
	Plugins         []casePlugin     `yaml:"plugins"`
	Expect          map[string]any   `yaml:"expect"`
	HostDifferences map[string]any   `yaml:"host_differences"`
	RanUnordered    bool             `yaml:"ran_unordered"`
	GoBuiltin       bool             `yaml:"go_builtin"`
}

// loadCases reads every case file that has a `cases:` list.
func loadCases(t *testing.T) []ruleCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(casesDir, "*", "*.yaml"))
	require.NoError(t, err)
	sort.Strings(files)
	var out []ruleCase
	seen := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		var doc struct {
			Cases []ruleCase `yaml:"cases"`
		}
		require.NoError(t, yaml.Unmarshal(b, &doc), f)
		for _, c := range doc.Cases {
			c.File = filepath.ToSlash(strings.TrimPrefix(f, casesDir+"/"))
			require.NotEmpty(t, c.Name, "%s: a case without a name", f)
			require.Empty(t, seen[c.Name], "%s: case %q also in %s", f, c.Name, seen[c.Name])
			seen[c.Name] = f
			c.normalise(t)
			out = append(out, c)
		}
	}
	return out
}

func (c *ruleCase) normalise(t *testing.T) {
	if c.Hook == "" {
		c.Hook = "tool_pre_invoke"
	}
	if c.Payload == nil {
		require.Equal(t, "tool_pre_invoke", c.Hook, "%s: payload is required for hook %s", c.Name, c.Hook)
		c.Payload = map[string]any{"name": "search", "args": map[string]any{"q": "x"}}
	}
	for path, spec := range c.Repeat {
		require.Len(t, spec, 2, "%s: repeat.%s wants [char, count]", c.Name, path)
		s := strings.Repeat(spec[0].(string), spec[1].(int))
		target, keys := c.Payload, strings.Split(path, ".")
		for _, k := range keys[:len(keys)-1] {
			next, ok := target[k].(map[string]any)
			if !ok {
				next = map[string]any{}
				target[k] = next
			}
			target = next
		}
		target[keys[len(keys)-1]] = s
	}
	if c.Calls == 0 {
		c.Calls = 1
	}
	for i := range c.Plugins {
		if c.Plugins[i].Hooks == nil {
			c.Plugins[i].Hooks = []string{c.Hook}
		}
	}
	if c.HostDifferences != nil {
		why, _ := c.HostDifferences["why"].(string)
		require.NotEmpty(t, why, "%s: host_differences needs a why", c.Name)
	}
}

// expectFor is the case's expectation on one host ("go" or "python"): the shared
// expect with that host's host_differences entries laid over it.
func (c *ruleCase) expectFor(host string) map[string]any {
	out := map[string]any{}
	for k, v := range c.Expect {
		out[k] = v
	}
	if over, ok := c.HostDifferences[host].(map[string]any); ok {
		for k, v := range over {
			out[k] = v
		}
	}
	return out
}

// generic turns v into what encoding/json decodes (maps, []any, float64, ...).
func generic(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var out any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}
