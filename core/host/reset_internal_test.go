package host

import (
	"context"
	"reflect"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"

	"github.com/cpex-go/cpex/core/engine"
	"github.com/cpex-go/cpex/core/internal/dirty"
	"github.com/cpex-go/cpex/core/plugin"
)

func TestDriverResetClearsEveryField(t *testing.T) {
	var d goDriver
	dirty.Fill(t, reflect.ValueOf(&d).Elem())
	m, plan, payload := &Manager{}, &engine.Plan{}, plugin.NewPayloadValue(map[string]any{})
	g, local := &plugin.GlobalContext{}, plugin.ContextTable{}
	ctx := context.Background()
	into, ext := &HookResult{}, map[string]any{}
	io := invokeOptions{ext: ext, noTable: true, noRecords: true, into: into, pool: 3, vexc: true}
	d.reset(m, ctx, plan, payload, g, local, &io)

	want := map[string]any{"m": m, "ctx": ctx, "plan": plan, "original": payload, "gctx": g, "local": local, "opt": io}
	v := reflect.ValueOf(&d).Elem()
	for i := 0; i < v.NumField(); i++ {
		name := v.Type().Field(i).Name
		f := v.Field(i)
		f = reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
		switch name {
		case "r": // initialised by startInto
			continue
		case "recs", "tabs", "keys": // the driver's own arrays, kept from call to call on purpose
			continue
		}
		if w, ok := want[name]; ok {
			assert.Equal(t, w, f.Interface(), "field %s", name)
			continue
		}
		assert.True(t, f.IsZero(), "reset leaves field %s dirty: %v", name, f.Interface())
	}
}
