"""The isolated-venv worker of this package: NDJSON protocol v1 on stdin/stdout.

Run by the host as ``<venv>/bin/python -I -m cpex.framework.isolated.worker`` in a venv
that installed this package. One JSON object per line each way; every answer carries
the ``request_id`` of its task. Tasks:

* ``capabilities`` -> ``{"status": "success", "protocol_version": 1, "features": [...],
  "cpex_version": ...}``; only features implemented below are listed.
* ``load_and_run_hook`` (``class_name``, ``config`` as a JSON string, ``plugin_dirs``,
  ``hook_type``, ``payload``, ``context``, optional ``extensions``) -> the hook's
  ``PluginResult`` as JSON, or ``{"status": "error", "message": ...}``.
* ``info`` -> the interpreter's facts; ``shutdown`` -> answers, then exits.

Unlike a line-at-a-time worker, tasks run concurrently on one event loop, so a host
that multiplexes calls by id gets them answered in any order. The protocol stream is a
private duplicate of fd 1; fd 1 itself is pointed at stderr, so nothing a plugin
prints (``print``, ``os.write(1, ...)``, a C extension) can corrupt the framing.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.metadata
import json
import logging
import os
import platform
import sys
import threading
from pathlib import Path
from typing import Any, BinaryIO, Optional

logger = logging.getLogger("cpex.framework.isolated.worker")

PROTOCOL_VERSION = 1
# Add a name only with the code that implements it: the host fails closed on a
# missing feature, and a claimed-but-absent one would silently drop data.
FEATURES = ("extensions", "modified_extensions")
# Headers that never cross the venv boundary (the host strips them too).
SENSITIVE_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "x-api-key"})
HEADER_FIELDS = ("headers", "request_headers", "response_headers")
# Bounds one hook call when the host gives none (the host's own timeout is the real one).
HOOK_TIMEOUT_SECONDS = 30.0


def _cpex_version() -> Optional[str]:
    for dist in ("cpex-go", "cpex"):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def _strip_headers(headers: Any) -> Any:
    if not isinstance(headers, dict):
        return headers
    return {k: v for k, v in headers.items() if not (isinstance(k, str) and k.lower() in SENSITIVE_HEADERS)}


def _sanitize_extensions(dumped: Any) -> Any:
    """The returned extensions (as JSON) without sensitive headers in the http slot."""
    if isinstance(dumped, dict) and isinstance(dumped.get("http"), dict):
        http = dict(dumped["http"])
        for field in HEADER_FIELDS:
            if field in http:
                http[field] = _strip_headers(http[field])
        dumped = {**dumped, "http": http}
    return dumped


class _Loaded:
    """One instantiated plugin, keyed by the config it was built from."""

    def __init__(self, key: str, plugin: Any, max_content_size: int) -> None:
        self.key = key
        self.plugin = plugin
        self.max_content_size = max_content_size
        self.hook_refs: dict[str, Any] = {}


class Worker:
    """Reads tasks, runs them concurrently, writes one answer line per task."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._loaded: Optional[_Loaded] = None
        self._load_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def max_content_size(self) -> Optional[int]:
        return self._loaded.max_content_size if self._loaded else None

    def write(self, answer: dict[str, Any]) -> None:
        line = json.dumps(answer, default=str)
        limit = self.max_content_size
        if limit and len(line) > limit:
            line = json.dumps(
                {
                    "status": "error",
                    "message": "Serialized response exceeds max content size",
                    "request_id": answer.get("request_id", "unknown"),
                }
            )
        self._out.write(line.encode() + b"\n")
        self._out.flush()

    def spawn(self, raw: bytes, oversized: bool) -> bool:
        """Handle one line; False when it was the shutdown task."""
        if oversized:
            self.write({"status": "error", "message": "Task line exceeds max content size", "request_id": "unknown"})
            return True
        try:
            task = json.loads(raw)
            if not isinstance(task, dict):
                raise ValueError("a task is a JSON object")
        except ValueError as exc:
            self.write({"status": "error", "message": f"Invalid JSON input: {exc}", "request_id": "unknown"})
            return True
        rid = task.get("request_id", "unknown")
        if task.get("task_type") == "shutdown":
            self.write({"status": "success", "message": "Shutting down", "request_id": rid})
            return False
        t = asyncio.get_running_loop().create_task(self._run(task, rid))
        self._tasks.add(t)
        t.add_done_callback(self._tasks.discard)
        return True

    async def _run(self, task: dict[str, Any], rid: Any) -> None:
        try:
            answer = await self.process(task)
        except Exception as exc:  # every failure is an answer, never a dead worker
            logger.exception("task %s failed", rid)
            answer = {"status": "error", "message": f"Unexpected error: {exc}"}
        answer["request_id"] = rid
        self.write(answer)

    async def process(self, task: dict[str, Any]) -> dict[str, Any]:
        kind = task.get("task_type")
        if kind == "capabilities":
            return {
                "status": "success",
                "protocol_version": PROTOCOL_VERSION,
                "features": list(FEATURES),
                "cpex_version": _cpex_version(),
            }
        if kind == "info":
            return {
                "status": "success",
                "environment": {
                    "python_version": sys.version,
                    "python_executable": sys.executable,
                    "platform": platform.platform(),
                },
                "message": "Environment info retrieved successfully",
            }
        if kind == "load_and_run_hook":
            return await self.run_hook(task)
        return {"status": "error", "message": "task type not supported."}

    async def _plugin(self, task: dict[str, Any]) -> _Loaded:
        from cpex.framework.loader.plugin import ALLOWED_PLUGIN_DIRS
        from cpex.framework.models import PluginConfig
        from cpex.framework.utils import parse_class_name

        config_json = task.get("config")
        class_name = task.get("class_name")
        if not isinstance(config_json, str) or not isinstance(class_name, str):
            raise ValueError("load_and_run_hook needs config (a JSON string) and class_name")
        dirs = task.get("plugin_dirs") or []
        key = json.dumps([config_json, class_name, dirs])
        async with self._load_lock:
            if self._loaded is not None and self._loaded.key == key:
                return self._loaded
            for entry in dirs:
                resolved = str(Path(entry).resolve())
                if not Path(resolved).exists():
                    raise RuntimeError(f"plugin module_path '{resolved}' does not exist.")
                if not resolved.startswith(tuple(ALLOWED_PLUGIN_DIRS)):
                    raise RuntimeError(f"plugin module_path '{resolved}' not in allowed plugin dirs.")
                if resolved not in sys.path:
                    sys.path.append(resolved)
            config = PluginConfig.model_validate(json.loads(config_json))
            module_name, cls = parse_class_name(class_name)
            plugin = getattr(importlib.import_module(module_name), cls)(config)
            await plugin.initialize()
            if self._loaded is not None:
                await self._loaded.plugin.shutdown()
            self._loaded = _Loaded(key, plugin, config.max_content_size)
            return self._loaded

    async def run_hook(self, task: dict[str, Any]) -> dict[str, Any]:
        from cpex.framework.base import HookRef, PluginRef
        from cpex.framework.models import PluginContext

        loaded = await self._plugin(task)
        hook = str(task.get("hook_type"))
        ref = loaded.hook_refs.get(hook)
        if ref is None:
            ref = loaded.hook_refs[hook] = HookRef(hook, PluginRef(loaded.plugin))
        raw_payload = task.get("payload")
        payload = loaded.plugin.json_to_payload(hook, raw_payload) if raw_payload is not None else None
        ctx = task.get("context") or {}
        context = PluginContext(
            state=ctx.get("state") or {}, global_context=ctx.get("global_context"), metadata=ctx.get("metadata") or {}
        )
        args: list[Any] = [payload, context]
        if ref.accepts_extensions:
            args.append(_extensions(task.get("extensions")))
        result = await asyncio.wait_for(ref.hook(*args), HOOK_TIMEOUT_SECONDS)
        if result is None:
            return {"status": "success"}
        dumped: dict[str, Any] = result.model_dump(mode="json")
        if dumped.get("modified_extensions") is not None:
            dumped["modified_extensions"] = _sanitize_extensions(dumped["modified_extensions"])
        return dumped


def _extensions(raw: Any) -> Any:
    """The task's extensions as an ``Extensions`` (unknown slots dropped), or None."""
    if not isinstance(raw, dict):
        return None
    from cpex.framework.extensions import Extensions

    known = {k: v for k, v in raw.items() if k in Extensions.model_fields}
    try:
        return Extensions.model_validate(known)
    except Exception as exc:
        logger.warning("ignoring extensions that do not validate: %s", exc)
        return None


class LineSplitter:
    """Splits the task stream into lines, each bounded by the limit in force when it
    arrives (the plugin's max_content_size once known). A longer line is reported once as
    oversized and the rest of it discarded, so the next line starts clean."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._skipping = False

    def feed(self, chunk: bytes, limit: Optional[int]) -> list[tuple[bytes, bool]]:
        out: list[tuple[bytes, bool]] = []
        self._buf += chunk
        while True:
            i = self._buf.find(b"\n")
            if i < 0:
                if limit and len(self._buf) > limit and not self._skipping:
                    self._skipping = True
                    out.append((b"", True))
                if self._skipping:
                    self._buf.clear()
                return out
            line = bytes(self._buf[:i])
            del self._buf[: i + 1]
            if self._skipping:
                self._skipping = False
            elif limit and len(line) > limit:
                out.append((b"", True))
            else:
                out.append((line, False))


async def _serve_pipe(worker: Worker, loop: asyncio.AbstractEventLoop) -> None:
    """Reads tasks on the event loop itself (no thread hop per task)."""
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
    splitter = LineSplitter()
    while True:
        chunk = await reader.read(1 << 16)
        if not chunk:
            return
        for line, oversized in splitter.feed(chunk, worker.max_content_size):
            if not oversized and not line.strip():
                continue
            if not worker.spawn(line, oversized):
                return


def _serve_thread(worker: Worker, loop: asyncio.AbstractEventLoop, stop: asyncio.Future[None]) -> None:
    """The same from a thread, for a stdin that is a regular file (no pipe transport)."""
    splitter = LineSplitter()
    read = getattr(sys.stdin.buffer, "read1", sys.stdin.buffer.read)
    try:
        while True:
            chunk = read(1 << 16)
            if not chunk:
                return
            for line, oversized in splitter.feed(chunk, worker.max_content_size):
                if not oversized and not line.strip():
                    continue
                if not asyncio.run_coroutine_threadsafe(_dispatch(worker, line, oversized), loop).result():
                    return
    finally:
        loop.call_soon_threadsafe(_finish, stop)


def _finish(stop: asyncio.Future[None]) -> None:
    if not stop.done():
        stop.set_result(None)


async def _dispatch(worker: Worker, line: bytes, oversized: bool) -> bool:
    return worker.spawn(line, oversized)


async def main() -> None:
    # The protocol owns a private copy of fd 1; fd 1 becomes stderr for everyone else.
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    worker = Worker(out)
    loop = asyncio.get_running_loop()
    try:
        await _serve_pipe(worker, loop)
    except ValueError:  # stdin is not a pipe: read it from a thread
        stop: asyncio.Future[None] = loop.create_future()
        threading.Thread(target=_serve_thread, args=(worker, loop, stop), daemon=True).start()
        await stop
    if worker._tasks:
        await asyncio.gather(*list(worker._tasks), return_exceptions=True)
    if worker._loaded is not None:
        try:
            await worker._loaded.plugin.shutdown()
        except Exception:
            logger.exception("plugin shutdown failed")


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    asyncio.run(main())
