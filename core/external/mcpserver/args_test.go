package mcpserver

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeInvokeArgs(t *testing.T) {
	for _, tc := range []struct {
		name, in   string
		code, want string // want: a part of the message; "" = accepted
		plugin     string
	}{
		{"ok", `{"hook_type":"tool_pre_invoke","plugin_name":"P","payload":{"name":"x"},"context":{"state":{}}}`, "", "", "P"},
		{"context absent", `{"hook_type":"h","plugin_name":"P","payload":{}}`, "", "", "P"},
		{"context null", `{"hook_type":"h","plugin_name":"P","payload":{},"context":null}`, "", "", "P"},
		{"extra keys ignored", `{"hook_type":"h","plugin_name":"P","payload":{},"x":1}`, "", "", "P"},
		{"not an object", `[1,2]`, CodeInvalidArguments, "want a JSON object", ""},
		{"not JSON", `{"hook_type":`, CodeInvalidArguments, "want a JSON object", ""},
		{"null", `null`, CodeInvalidArguments, "want a JSON object", ""},
		{"missing hook", `{"plugin_name":"P","payload":{}}`, CodeInvalidArguments, "hook_type: missing", "P"},
		{"empty plugin", `{"hook_type":"h","plugin_name":"","payload":{}}`, CodeInvalidArguments, `plugin_name: want a non-empty string, got ""`, ""},
		{"plugin a number", `{"hook_type":"h","plugin_name":3,"payload":{}}`, CodeInvalidArguments, "plugin_name: want a non-empty string, got 3", ""},
		{"payload a string", `{"hook_type":"h","plugin_name":"P","payload":"{}"}`, CodeInvalidArguments, `payload: want a JSON object, got "{}"`, "P"},
		{"payload missing", `{"hook_type":"h","plugin_name":"P"}`, CodeInvalidArguments, "payload: missing", "P"},
		{"context a list", `{"hook_type":"h","plugin_name":"P","payload":{},"context":[]}`, CodeInvalidArguments, "context: want a JSON object, got []", "P"},
		{"too large", `{"plugin_name":"Big","hook_type":"h","payload":{"x":"` + strings.Repeat("a", 200) + `"}}`, CodeRequestTooLarge, "exceed the server's limit of 100 bytes", "Big"},
		{"invalid UTF-8", "{\"hook_type\":\"h\",\"plugin_name\":\"P\xff\",\"payload\":{}}", CodeInvalidArguments, "not valid UTF-8", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := DecodeInvokeArgs([]byte(tc.in), 100)
			if tc.want == "" {
				require.NoError(t, err)
				assert.Equal(t, tc.plugin, a.PluginName)
				return
			}
			var ae *ArgsError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tc.code, ae.Code)
			assert.Contains(t, ae.Msg, tc.want)
			assert.Equal(t, tc.plugin, ae.Plugin)
		})
	}
}

// FuzzDecodeInvokeArgs: any bytes a client sends as invoke_hook's arguments are either
// accepted with the promised shape or refused with an ArgsError whose reply is a valid
// error model; never a panic.
func FuzzDecodeInvokeArgs(f *testing.F) {
	for _, s := range []string{`{"hook_type":"h","plugin_name":"P","payload":{},"context":{}}`, `{}`, `[]`, `null`,
		`{"plugin_name":"P","payload":1}`, "{\"plugin_name\":\"\xff\"}", `{"hook_type":"h","plugin_name":"P","payload":{},"context":null}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		a, err := DecodeInvokeArgs(raw, 1<<12)
		if err != nil {
			ae, ok := err.(*ArgsError)
			require.True(t, ok)
			var m struct {
				PluginName string     `json:"plugin_name"`
				Error      ErrorModel `json:"error"`
			}
			require.NoError(t, json.Unmarshal(ErrorReply(ae.Plugin, ae.Code, ae.Msg, nil), &m))
			require.Equal(t, ae.Msg, m.Error.Message)
			return
		}
		require.NotEmpty(t, a.HookType)
		require.NotEmpty(t, a.PluginName)
		require.Equal(t, byte('{'), kind(a.Payload))
		require.True(t, a.Context == nil || kind(a.Context) == '{')
	})
}

func TestQueueHandsCallsToTheHost(t *testing.T) {
	woken := make(chan struct{}, 16)
	q, err := NewQueue([]json.RawMessage{json.RawMessage(`{"name":"PyGuard","hooks":["tool_pre_invoke"]}`)},
		func() { woken <- struct{}{} })
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"PyGuard","hooks":["tool_pre_invoke"]}`, string(q.PluginConfig("pyguard")), "case-insensitive")
	assert.Nil(t, q.PluginConfig("other"))

	var wg sync.WaitGroup
	replies := make([]json.RawMessage, 3)
	for i := range replies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies[i], _ = q.Invoke(context.Background(), &InvokeArgs{HookType: "h", PluginName: "PyGuard", Payload: json.RawMessage(`{}`)})
		}()
	}
	got := 0
	for got < 3 {
		<-woken
		taken, closed := q.Take(0)
		assert.False(t, closed)
		for _, c := range taken {
			assert.True(t, q.Answer(c.ID, json.RawMessage(`{"plugin_name":"PyGuard","result":{"continue_processing":true}}`)))
			got++
		}
	}
	wg.Wait()
	for _, r := range replies {
		assert.Equal(t, OutcomeAllowed, outcomeOf(r))
	}
	assert.False(t, q.Answer(999, json.RawMessage(`{}`)), "an unknown id is not answered")
}

func TestQueueAbandonAndClose(t *testing.T) {
	q, err := NewQueue(nil, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan json.RawMessage)
	go func() {
		r, _ := q.Invoke(ctx, &InvokeArgs{PluginName: "P", HookType: "h"})
		done <- r
	}()
	for {
		q.mu.Lock()
		n := len(q.pending)
		q.mu.Unlock()
		if n == 1 {
			break
		}
	}
	cancel()
	r := <-done
	assert.Contains(t, string(r), "ended before the plugin answered")
	taken, _ := q.Take(0)
	assert.Empty(t, taken, "an abandoned call is not handed out")

	go func() {
		r, _ := q.Invoke(context.Background(), &InvokeArgs{PluginName: "P", HookType: "h"})
		done <- r
	}()
	for {
		if taken, _ = q.Take(0); len(taken) == 1 {
			break
		}
	}
	q.Close()
	r = <-done
	assert.Equal(t, OutcomeError, outcomeOf(r))
	assert.Contains(t, string(r), CodeServerClosed)
	assert.False(t, q.Answer(taken[0].ID, json.RawMessage(`{}`)), "a late answer after Close goes nowhere")
	r, outcome := q.Invoke(context.Background(), &InvokeArgs{PluginName: "P"})
	assert.Equal(t, OutcomeError, outcome)
	assert.Contains(t, string(r), "shutting down")
	_, closed := q.Take(0)
	assert.True(t, closed)

	_, err = NewQueue([]json.RawMessage{json.RawMessage(`{"nom":1}`)}, nil)
	assert.ErrorContains(t, err, "plugin config 0: want a JSON object with a string name")
}
