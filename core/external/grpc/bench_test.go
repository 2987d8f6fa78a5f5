package grpc

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/cpex-go/cpex/core/external/remote/remotetest"
)

// BenchmarkInvoke: one no-op InvokeHook round trip to the in-process Go server, over
// TCP and a Unix socket, from 1 and 64 concurrent callers sharing the plugin's channel.
func BenchmarkInvoke(b *testing.B) {
	for _, tr := range []string{"tcp", "uds"} {
		for _, callers := range []int{1, 64} {
			b.Run(fmt.Sprintf("%s/callers=%d", tr, callers), func(b *testing.B) {
				t := &testing.T{}
				ep := Endpoint{Network: "tcp", Address: "127.0.0.1:0"}
				if tr == "uds" {
					ep = Endpoint{Network: "unix", Address: filepath.Join(b.TempDir(), "b.sock")}
				}
				l, err := Listen(ep)
				if err != nil {
					b.Fatal(err)
				}
				s := NewServer(remotetest.Manager(b), nil)
				go s.Serve(l) //nolint:errcheck // ends with Stop
				defer s.Stop()
				section := "{target: '" + l.Addr().String() + "'}"
				if tr == "uds" {
					section = "{uds: '" + ep.Address + "'}"
				}
				p, err := Connect(context.Background(), entry(t, "allow", section), Options{Settings: noSettings()})
				if err != nil {
					b.Fatal(err)
				}
				defer p.Shutdown(context.Background()) //nolint:errcheck
				remotetest.BenchCalls(b, p, callers)
			})
		}
	}
}
