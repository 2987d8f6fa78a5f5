package callq

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
