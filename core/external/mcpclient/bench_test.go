package mcpclient

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/cpex-go/cpex/core"
)

// BenchmarkInvokeHTTP: one no-op invoke_hook round trip over streamable HTTP to the
// in-process server, from parallel callers sharing the plugin's session.
func BenchmarkInvokeHTTP(b *testing.B) {
	srv := httptest.NewServer(newHTTPHandler())
	defer srv.Close()
	pc := httpEntry(&testing.T{}, srv.URL, "")
	p, err := Connect(context.Background(), pc, Options{Settings: testSettings()})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Shutdown(context.Background()) //nolint:errcheck
	payload := []byte(`{"name":"echo-noop","args":{"q":"x"}}`)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.Invoke(context.Background(), "tool_pre_invoke", core.NewPayloadJSON(payload), &core.PluginContext{RequestID: "r"}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
