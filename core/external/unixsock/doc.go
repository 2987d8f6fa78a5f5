// Package unixsock is the Unix-socket transport of external plugins (`kind: external`
// with a `unix_socket:` section), both ends, on upstream cpex 0.1.4's wire: each message
// is a 4-byte big-endian length and that many bytes of a protobuf message of
// proto/plugin_service.proto, at most 16 MiB; requests carry no type tag, the server
// tells them apart as upstream's does (see Classify).
//
// Client: a pool of connections, so concurrent calls of one plugin each use their own
// connection (upstream holds one connection behind one lock per plugin). Every answer
// must arrive within the entry's timeout; a broken connection is dropped and the call
// retried on a fresh one up to reconnect_attempts times, reconnect_delay*i apart. As
// upstream, Connect only checks that the server knows the plugin: the local entry is
// the plugin's whole configuration (no remote-config merge on this transport).
//
// Server: Serve answers on a socket from a core Manager's plugins.
package unixsock
