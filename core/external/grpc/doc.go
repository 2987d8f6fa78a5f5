// Package grpc is the gRPC transport of external plugins (`kind: external` with a
// `grpc:` section), both ends, on upstream cpex 0.1.4's wire (proto/plugin_service.proto).
//
// Client: Connect dials the target (host:port, or unix:// for a socket), fetches the
// plugin's config with GetPluginConfig (3 attempts, 1 s then 2 s apart) and merges it
// under the local entry as the MCP client does (core/external/remote.Merge); each hook
// call is one InvokeHook on the shared channel (HTTP/2 multiplexes concurrent calls, no
// lock). Importing the package registers the "grpc" transport with core.RegisterExternal.
//
// Server: NewServer serves a core Manager's plugins (PluginService, cpex.Health and the
// standard grpc.health.v1 service); Serve binds as PLUGINS_GRPC_SERVER_* or the
// config's grpc_server_settings say (TCP with optional TLS and client auth
// none/optional/require, or a Unix socket).
//
// Numbers: payload, context and result travel as google.protobuf.Struct, whose only
// number is a double. An integer beyond ±2^53 is refused with an error naming where it
// is (remote.RangeError) instead of being rounded as upstream's json_format does; an
// integral double comes back as an integer literal.
package grpc
