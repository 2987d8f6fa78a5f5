package unixsock

import (
	"context"
	"fmt"
	"testing"

	"github.com/cpex-go/cpex/core/external/remote/remotetest"
)

// BenchmarkInvoke: one no-op InvokeHook round trip to the in-process Go server from 1
// and 64 concurrent callers (each on a pooled connection of its own).
func BenchmarkInvoke(b *testing.B) {
	for _, callers := range []int{1, 64} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
			t := &testing.T{}
			path := b.TempDir() + "/b.sock"
			l, err := Listen(path)
			if err != nil {
				b.Fatal(err)
			}
			s := NewServer(remotetest.Manager(b), nil)
			go s.Serve(l) //nolint:errcheck // ends with Stop
			defer s.Stop()
			p, err := Connect(context.Background(), entry(t, "allow", path, ""))
			if err != nil {
				b.Fatal(err)
			}
			defer p.Shutdown(context.Background()) //nolint:errcheck
			remotetest.BenchCalls(b, p, callers)
		})
	}
}
