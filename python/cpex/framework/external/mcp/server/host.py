"""The Python half of every plugin server runtime (MCP, gRPC, Unix socket): drains the
Go server's call queue on the event loop.

Go serves the transport (MCP over stdio or streamable HTTP, gRPC, the Unix-socket
protocol) and queues each hook call; it wakes the loop by writing a byte to a pipe the
loop watches (``loop.add_reader``); the loop then takes every waiting call, runs each as
a task through :meth:`ExternalPluginServer.invoke_hook` and answers it. Go never calls
into Python (DESIGN.md, "The boundary"). The configuration requests are answered in Go
from the configurations given at start.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any, Literal, Optional, Union

import pydantic_core

from cpex.framework._engine import wire
from cpex.framework.external.mcp.server.server import ExternalPluginServer
from cpex.framework.models import GRPCServerConfig, MCPServerConfig, UnixSocketServerConfig

logger = logging.getLogger(__name__)

Transport = Literal["stdio", "http", "grpc", "unix"]

#: Where a transport listens: MCPServerConfig (http), GRPCServerConfig (grpc),
#: UnixSocketServerConfig (unix); stdio needs none.
ServerConfig = Union[MCPServerConfig, GRPCServerConfig, UnixSocketServerConfig]


def _tls_opts(tls: Any) -> dict[str, Any]:
    """The TLS model as MCPServerStart reads it (the password in clear: it stays in-process)."""
    out: dict[str, Any] = pydantic_core.to_jsonable_python(tls.model_dump())
    return out


def transport_opts(transport: Transport, config: Optional[ServerConfig]) -> dict[str, Any]:
    """MCPServerStart's endpoint options of ``transport`` from its config model."""
    if transport == "http":
        c = config if isinstance(config, MCPServerConfig) else MCPServerConfig()
        opts: dict[str, Any] = {"host": c.host, "port": c.port, "uds": c.uds}
        if c.tls is not None:
            opts["tls"] = _tls_opts(c.tls)
        return opts
    if transport == "grpc":
        g = config if isinstance(config, GRPCServerConfig) else GRPCServerConfig()
        opts = {"host": g.host, "port": g.port, "uds": g.uds}
        if g.tls is not None and not g.uds:
            opts["tls"] = _tls_opts(g.tls)
        return opts
    if transport == "unix":
        u = config if isinstance(config, UnixSocketServerConfig) else UnixSocketServerConfig()
        return {"path": u.path}
    return {}


def _pipe() -> tuple[int, int]:
    if hasattr(os, "pipe2"):
        return os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    r, w = os.pipe()
    os.set_blocking(r, False)
    os.set_blocking(w, False)
    return r, w


class PluginServerHost:
    """One running Go plugin server (any transport) whose calls this event loop runs."""

    def __init__(
        self,
        server: ExternalPluginServer,
        transport: Transport,
        config: Optional[ServerConfig] = None,
        log_level: str = "INFO",
        max_request_bytes: int = 0,
    ) -> None:
        self._server = server
        self._transport = transport
        self._config = config
        self._log_level = log_level
        self._max_request_bytes = max_request_bytes
        self._id: Optional[int] = None
        # Where answers go: still set while stop() waits for the transport to finish the
        # calls in flight (their answers must reach it), cleared once Go has stopped.
        self._answer_id: Optional[int] = None
        self._pipe: Optional[tuple[int, int]] = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._ended: Optional[asyncio.Event] = None
        self.error = ""
        self.addr = ""
        self.health_addr = ""

    async def start(self) -> None:
        """Start serving (a network endpoint is listening when this returns)."""
        loop = asyncio.get_running_loop()
        configs = pydantic_core.to_jsonable_python(await self._server.get_plugin_configs())
        opts: dict[str, Any] = {
            "transport": self._transport,
            "configs": configs,
            "max_request_bytes": self._max_request_bytes,
            "log_level": self._log_level,
        }
        opts.update(transport_opts(self._transport, self._config))
        self._ended = asyncio.Event()
        self._pipe = _pipe()
        try:
            info = wire.mcp_server_start(opts, self._pipe[1])
        except Exception:
            self._close_pipe()
            raise
        self._id = self._answer_id = int(info["id"])
        self.addr = info.get("addr", "")
        self.health_addr = info.get("health_addr", "")
        loop.add_reader(self._pipe[0], self._wake)

    def _wake(self) -> None:
        assert self._pipe is not None and self._id is not None and self._ended is not None
        try:
            while os.read(self._pipe[0], 4096):
                pass
        except BlockingIOError:
            pass
        taken = wire.mcp_server_take(self._id)
        for call in taken["calls"]:
            task = asyncio.get_running_loop().create_task(self._run(call))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if taken["ended"]:
            self.error = taken.get("error") or ""
            self._ended.set()

    async def _run(self, call: dict[str, Any]) -> None:
        reply = await self._server.invoke_hook(
            call["hook_type"], call["plugin_name"], call["payload"], call.get("context") or {}
        )
        try:
            text = pydantic_core.to_json(reply).decode()
        except Exception as exc:  # noqa: BLE001 - a result that does not encode still gets an answer
            text = pydantic_core.to_json({
                "plugin_name": call["plugin_name"],
                "error": {"message": f"plugin {call['plugin_name']}: reply does not encode as JSON: {exc}",
                          "plugin_name": call["plugin_name"], "code": "INTERNAL_ERROR", "details": {},
                          "mcp_error_code": -32603},
            }).decode()
        if self._answer_id is not None:
            wire.mcp_server_answer(self._answer_id, int(call["id"]), text)

    async def wait(self) -> None:
        """Until the server ends (stdio: the client closed stdin; a failed accept loop; or stop())."""
        assert self._ended is not None
        await self._ended.wait()

    async def stop(self) -> None:
        """Stop serving: calls in flight may still answer while the transport shuts down (up
        to 5 s), then those still running are cancelled; calls still queued get an error model."""
        if self._id is None:
            return
        server_id, self._id = self._id, None
        if self._pipe is not None:
            asyncio.get_running_loop().remove_reader(self._pipe[0])
        await asyncio.to_thread(wire.mcp_server_stop, server_id)
        self._answer_id = None
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._close_pipe()
        if self._ended is not None:
            self._ended.set()

    def metrics(self) -> str:
        """The server's Prometheus text exposition (MCP only)."""
        assert self._id is not None
        return wire.mcp_server_metrics(self._id)

    def _close_pipe(self) -> None:
        if self._pipe is not None:
            for fd in self._pipe:
                try:
                    os.close(fd)
                except OSError:
                    pass
            self._pipe = None
