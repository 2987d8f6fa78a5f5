package cpexpb_test

import (
	"context"
	"testing"

	"github.com/bufbuild/protocompile"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"

	"github.com/cpex-go/cpex/proto/cpexpb"
)

// TestGeneratedCodeIsCurrent compiles proto/plugin_service.proto with a pure-Go compiler
// and compares its descriptor with the one embedded in the committed generated code:
// an edit of the .proto without `make proto` fails here, with no protoc needed.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	c := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{ImportPaths: []string{".."}}),
	}
	files, err := c.Compile(context.Background(), "plugin_service.proto")
	require.NoError(t, err)
	fromSource := protodesc.ToFileDescriptorProto(files[0])
	committed := protodesc.ToFileDescriptorProto(cpexpb.File_plugin_service_proto)
	// Source locations (comments, line numbers) do not reach the generated code.
	fromSource.SourceCodeInfo, committed.SourceCodeInfo = nil, nil
	require.True(t, proto.Equal(fromSource, committed), "proto/cpexpb is stale: run `make proto`")
}
