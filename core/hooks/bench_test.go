package hooks_test

import (
	"testing"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/hooks"
)

var benchToolPre = []byte(`{"name":"web_search","args":{"query":"golang generics","limit":10,"filters":{"lang":"en","safe":true}},"headers":{"authorization":"Bearer abc","x-request-id":"r-123"}}`)

func BenchmarkDecodeToolPreInvoke(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchToolPre)))
	for b.Loop() {
		if _, err := hooks.DecodeHook(hooks.ToolPreInvoke, benchToolPre); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalToolPreInvoke(b *testing.B) {
	v, err := hooks.Decode[hooks.ToolPreInvokePayload](core.NewPayloadJSON(benchToolPre))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := hooks.Marshal(v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeHTTPPreRequest(b *testing.B) {
	doc := []byte(`{"path":"/rpc","method":"POST","client_host":"10.0.0.1","client_port":51234,"headers":{"authorization":"Bearer t","content-type":"application/json"}}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, err := hooks.DecodeHook(hooks.HTTPPreRequest, doc); err != nil {
			b.Fatal(err)
		}
	}
}
