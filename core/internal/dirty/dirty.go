// Package dirty fills values with non-zero data, so tests of reset functions (which
// clear recycled structs field by field) see any field a reset forgets.
package dirty

import (
	"context"
	"reflect"
	"testing"
	"unsafe"
)

// Fill sets every field reachable in v (exported or not) to a non-zero value,
// so a reset that forgets a field leaves it visibly dirty.
func Fill(t *testing.T, v reflect.Value) {
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
			Fill(t, v.Index(i))
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			Fill(t, reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem())
		}
	}
}
