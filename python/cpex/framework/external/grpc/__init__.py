"""External plugins over gRPC (``kind: external`` with a ``grpc:`` section); the client is
the Go core's (``core/external/grpc``), see :mod:`cpex.framework.external.grpc.client`."""
