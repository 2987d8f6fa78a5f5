// Package remote holds what every external-plugin transport shares (MCP, gRPC, Unix
// socket): the remote-config merge under the local entry, the client TLS
// configuration, the decoding of upstream's PluginResult, the conversion between JSON
// trees and google.protobuf.Struct, and the errors naming plugin and cause.
package remote
