package engine

import (
	"reflect"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core/internal/dirty"
)

func TestRunResetClearsEveryField(t *testing.T) {
	var r Run
	dirty.Fill(t, reflect.ValueOf(&r.step).Elem())
	r.step.Logs = append(r.step.Logs, LogEntry{Level: "info", Message: "m"})
	logs := r.step.Logs
	s := r.reset()
	require.Same(t, &r.step, s)
	// The header is cleared; each Op's part is written whole where its Op is set, and
	// reading it under another Op panics (TestStepPartsFollowTheirOp).
	header := Step{Logs: logs[:0], call: s.call, conc: s.conc, goes: s.goes, done: s.done, raise: s.raise}
	assert.Equal(t, header, *s, "reset must clear every Step header field")
	assert.Equal(t, cap(logs), cap(s.Logs), "the log buffer is kept for reuse")
}

func TestStepPartsFollowTheirOp(t *testing.T) {
	parts := map[Op]func(*Step){
		OpCall:       func(s *Step) { s.Call() },
		OpConcurrent: func(s *Step) { s.Concurrent() },
		OpGo:         func(s *Step) { s.Go() },
		OpDone:       func(s *Step) { s.Done() },
		OpRaise:      func(s *Step) { s.Raise() },
	}
	for op, read := range parts {
		for other := range parts {
			s := &Step{Op: other}
			if other == op {
				assert.NotPanics(t, func() { read(s) }, "%s part of a %s step", op, other)
				continue
			}
			assert.PanicsWithError(t, "core: the "+op.String()+" part of a "+other.String()+" step", func() { read(s) })
		}
	}
}

func TestRunInitClearsEveryField(t *testing.T) {
	var r Run
	dirty.Fill(t, reflect.ValueOf(&r).Elem())
	e, plan, facts := NewExecutor(30, PolicyAllow), &Plan{}, &Facts{RequestID: "r1"}
	r.init(e, plan, facts)

	want := map[string]any{"exec": e, "plan": plan, "facts": *facts, "opts": e.opts.Load(), "waiting": -1}
	v := reflect.ValueOf(&r).Elem()
	for i := 0; i < v.NumField(); i++ {
		name := v.Type().Field(i).Name
		if name == "step" { // the header is reset's (TestRunResetClearsEveryField), the parts their Op's
			continue
		}
		f := v.Field(i)
		f = reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
		if w, ok := want[name]; ok {
			assert.Equal(t, w, f.Interface(), "field %s", name)
			continue
		}
		assert.True(t, f.IsZero(), "init leaves field %s dirty: %v", name, f.Interface())
	}
}
