"""The external gRPC plugin server: its runtime
(``python -m cpex.framework.external.grpc.server.runtime``) and the service objects at
upstream's import path."""

from cpex.framework.external.grpc.server.server import GrpcHealthServicer, GrpcPluginServicer

__all__ = ["GrpcHealthServicer", "GrpcPluginServicer"]
