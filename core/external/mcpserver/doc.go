// Package mcpserver is the server half of external plugins over MCP: it serves a set of
// plugins to any cpex MCP client (ours in core/external/mcpclient, upstream's Python one)
// with upstream's three tools, get_plugin_configs, get_plugin_config and invoke_hook, over
// stdio or streamable HTTP (TCP, TLS/mTLS, or a Unix-domain socket), with /health and a
// Prometheus /metrics/prometheus next to /mcp.
//
// Who runs the plugins is a [Backend]:
//   - [ManagerBackend] runs Go plugins of a core.Manager: a Go process hosts guards for
//     any gateway without Python (examples/mcp-server);
//   - [Queue] hands each call to a host that drains it, the Python runtime
//     (cpex.framework.external.mcp.server.runtime): Go queues the call and wakes the
//     host's event loop through a pipe; the host takes the calls, runs them and answers.
//     There are no Go→Python callbacks.
//
// Every reply keeps upstream's shape: {"plugin_name", "result", "context"} on success,
// {"plugin_name", "error": PluginErrorModel} on any failure, malformed arguments and
// unknown plugins included, so a client always gets an error model it can raise.
package mcpserver
