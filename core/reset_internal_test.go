package core

import (
	"context"
	"reflect"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fillNonZero sets every field reachable in v (exported or not) to a non-zero value,
// so a reset that forgets a field leaves it visibly dirty.
func fillNonZero(t *testing.T, v reflect.Value) {
	t.Helper()
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		v.SetUint(7)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(7)
	case reflect.String:
		v.SetString("dirty")
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
	case reflect.Chan:
		v.Set(reflect.MakeChan(v.Type(), 0))
	case reflect.Interface:
		if s := reflect.ValueOf("dirty"); s.Type().Implements(v.Type()) {
			v.Set(s)
		} else if c := reflect.ValueOf(context.TODO()); c.Type().Implements(v.Type()) {
			v.Set(c)
		}
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			fillNonZero(t, v.Index(i))
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			fillNonZero(t, reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem())
		}
	}
}

func TestRunResetClearsEveryField(t *testing.T) {
	var r Run
	fillNonZero(t, reflect.ValueOf(&r.step).Elem())
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

func TestDriverResetClearsEveryField(t *testing.T) {
	var d goDriver
	fillNonZero(t, reflect.ValueOf(&d).Elem())
	m, plan, payload := &Manager{}, &Plan{}, NewPayloadValue(map[string]any{})
	g, local := &GlobalContext{}, ContextTable{}
	ctx := context.Background()
	d.reset(m, ctx, plan, payload, g, local)

	want := map[string]any{"m": m, "ctx": ctx, "plan": plan, "original": payload, "gctx": g, "local": local}
	v := reflect.ValueOf(&d).Elem()
	for i := 0; i < v.NumField(); i++ {
		name := v.Type().Field(i).Name
		f := v.Field(i)
		f = reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
		switch name {
		case "r": // initialised by startInto
			continue
		}
		if w, ok := want[name]; ok {
			assert.Equal(t, w, f.Interface(), "field %s", name)
			continue
		}
		assert.True(t, f.IsZero(), "reset leaves field %s dirty: %v", name, f.Interface())
	}
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
