"""The Unix-socket plugin server: :class:`UnixSocketPluginServer` and its runtime
(``python -m cpex.framework.external.unix.server.runtime``)."""

from cpex.framework.external.unix.server.server import UnixSocketPluginServer, run_server

__all__ = ["UnixSocketPluginServer", "run_server"]
