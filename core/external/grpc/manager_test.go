package grpc

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cpex-go/cpex/core"
	"github.com/cpex-go/cpex/core/config"
	"github.com/cpex-go/cpex/core/external/remote/remotetest"
	"github.com/cpex-go/cpex/core/external/unixsock"
)

// A Go service gets both transports by importing them: a core Manager loads
// `kind: external` entries through core.RegisterExternal, plans with the merged config
// (gRPC) or the entry (Unix socket), and runs the remote plugins like local ones.
func TestGoManagerRunsExternalPlugins(t *testing.T) {
	addr := serve(t, Endpoint{Network: "tcp", Address: "127.0.0.1:0"}, nil)
	sock := t.TempDir() + "/u.sock"
	l, err := unixsock.Listen(sock)
	require.NoError(t, err)
	us := unixsock.NewServer(remotetest.Manager(t), nil)
	go us.Serve(l) //nolint:errcheck // ends with Stop
	t.Cleanup(us.Stop)

	doc := "plugins:\n" +
		"  - {name: modify, kind: external, grpc: {target: '" + addr + "'}}\n" +
		"  - {name: block, kind: external, hooks: [tool_pre_invoke], mode: sequential, priority: 200, unix_socket: {path: '" + sock + "'}}\n"
	cfg, err := config.Parse([]byte(doc), "service.yaml", config.WithSSRFProtection(false))
	require.NoError(t, err)
	m, err := core.NewManager(cfg, core.WithLogger(nil))
	require.NoError(t, err)
	defer m.Shutdown(context.Background()) //nolint:errcheck

	res, _, err := m.InvokeHook(context.Background(), "tool_pre_invoke",
		core.NewPayloadJSON([]byte(`{"name":"t","args":{}}`)), &core.GlobalContext{RequestID: "r"}, nil)
	require.NoError(t, err)
	assert.False(t, res.ContinueProcessing, "the Unix-socket plugin blocks")
	require.NotNil(t, res.Violation)
	assert.Equal(t, "TEST_BLOCK", res.Violation.Code)
	assert.Equal(t, "block", res.Violation.PluginName)

	// Alone, the gRPC plugin runs with its server's hooks and mode (transform).
	cfg, err = config.Parse([]byte("plugins:\n  - {name: modify, kind: external, grpc: {target: '"+addr+"'}}\n"), "service.yaml", config.WithSSRFProtection(false))
	require.NoError(t, err)
	m2, err := core.NewManager(cfg, core.WithLogger(nil))
	require.NoError(t, err)
	defer m2.Shutdown(context.Background()) //nolint:errcheck
	res, _, err = m2.InvokeHook(context.Background(), "tool_pre_invoke",
		core.NewPayloadJSON([]byte(`{"name":"t","args":{}}`)), &core.GlobalContext{RequestID: "r"}, nil)
	require.NoError(t, err)
	assert.True(t, res.ContinueProcessing)
	require.NotNil(t, res.ModifiedPayload)
	v, err := res.ModifiedPayload.Value()
	require.NoError(t, err)
	assert.Equal(t, "modified", v.(map[string]any)["name"])
}
