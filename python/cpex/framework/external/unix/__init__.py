"""External plugins over a Unix socket (``kind: external`` with a ``unix_socket:`` section);
the client is the Go core's (``core/external/unixsock``), see
:mod:`cpex.framework.external.unix.client`."""
