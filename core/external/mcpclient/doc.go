// Package mcpclient is the client side of external plugins served over MCP
// (`kind: external` with an `mcp:` section), built on the official Go MCP SDK.
//
// An external plugin is an ordinary core.Plugin: its Invoke makes one `invoke_hook`
// tool call on a shared MCP session, so it runs the same from Python chains (the core
// calls it inside a go step, without the GIL) and from Go services, and concurrent calls
// share the session without a per-plugin lock.
//
// Importing the package registers the "mcp" transport with core.RegisterExternal; the
// Python extension imports it, a Go service imports it for its side effect:
//
//	import _ "github.com/cpex-go/cpex/core/external/mcpclient"
//
// The wire follows upstream cpex 0.1.x: initialize, tools/list, then
// `get_plugin_config {name}`, whose answer is merged under the local entry (the keys the
// entry sets win) before the manager plans hooks; each hook call is
// `invoke_hook {hook_type, plugin_name, payload, context}` and its text answer carries
// `result`, `context` and/or `error` (see reply.go).
package mcpclient
