// Package callq is the call queue between the Go plugin servers (MCP, gRPC, Unix socket)
// and a host that runs the plugins itself, the Python runtimes: a server queues each
// hook call and wakes the host (a byte on a pipe its event loop watches); the host takes
// the waiting calls, runs them and answers each with upstream's reply shape
// ({"plugin_name", "result", "context"} or {"plugin_name", "error"}). Go never calls
// into the host.
package callq
