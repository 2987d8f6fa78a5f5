package plugin

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestErrorsAndPayload(t *testing.T) {
	assert.Equal(t, "m", (&ViolationError{Message: "m"}).Error())
	assert.Equal(t, "s", (&PayloadSizeError{Message: "s"}).Error())
	assert.Equal(t, "t", (&TimeoutError{Message: "t"}).Error())
	p := NewPayloadJSON([]byte(`{"a":1}`))
	b, err := p.JSON()
	require.NoError(t, err)
	assert.Equal(t, `{"a":1}`, string(b))
	assert.Equal(t, float64(1), p.Field("a"))
	bad := NewPayloadJSON([]byte(`{`))
	assert.Nil(t, bad.Field("a"))
	assert.Nil(t, NewPayloadValue([]any{}).Field("a"))
	_, err = NewPayloadValue(func() {}).JSON()
	assert.Error(t, err)
	b, err = NewPayloadValue(map[string]any{"x": true}).JSON()
	require.NoError(t, err)
	assert.Equal(t, `{"x":true}`, string(b))
	pc := &PluginContext{}
	pc.SetMetadata("k", 1)
	assert.Equal(t, 1, pc.Metadata["k"])
}

func TestPayloadIsSafeForConcurrentUse(t *testing.T) {
	p := NewPayloadJSON([]byte(`{"a":[1,2,3]}`))
	q := NewPayloadValue(map[string]any{"b": true})
	done := make(chan struct{})
	for i := 0; i < 8; i++ {
		go func() {
			defer func() { done <- struct{}{} }()
			_, _ = p.Value()
			_ = p.Field("a")
			_, _ = q.JSON()
		}()
	}
	for i := 0; i < 8; i++ {
		<-done
	}
	v, err := p.Value()
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"a": []any{1.0, 2.0, 3.0}}, v)
	_, err = NewPayloadJSON([]byte(`{`)).Value()
	assert.ErrorContains(t, err, "payload: invalid JSON")
}
