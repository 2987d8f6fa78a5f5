"""External plugins over gRPC (``kind: external`` with a ``grpc:`` section); the client is
the Go core's (``core/external/grpc``), see :mod:`cpex.framework.external.grpc.client`."""

from typing import Any

__all__ = ["GrpcHealthServicer", "GrpcPluginServicer"]


def __getattr__(name: str) -> Any:
    # upstream exports the server's service objects here too; imported on first use so
    # that loading the client does not load the server (and the manager) with it
    if name in __all__:
        from cpex.framework.external.grpc import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
