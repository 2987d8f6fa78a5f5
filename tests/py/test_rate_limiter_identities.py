"""builtin/rate_limiter keys every user exactly (issue 10, item 2).

Dict users cross to Go losslessly (ints of any size, lists, dicts: docs/protocol.md,
facts ``user``), so two distinct users never share a counter and no user skips the
per-user limit, through a chain run and through a direct call of the plugin, with the
memory and the Redis backends and every algorithm.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

import pytest

from cpex.framework import GlobalContext, PluginContext, TenantPluginManager, ToolPreInvokePayload
from test_builtin_regex_deny_rate import redis_url  # noqa: F401 - the module's private redis-server

ALGORITHMS = ["fixed_window", "token_bucket", "sliding_window"]

# Each must get its own counter: ids a float64 cannot tell apart (2^53 and 2^53+1,
# snowflake-size ids), ids beyond 64 bits, and values that are not scalars.
USERS: list[dict[str, Any]] = [
    {"id": 2**53},
    {"id": 2**53 + 1},
    {"id": 10**18},
    {"id": 10**18 + 1},
    {"id": 2**70},
    {"id": 2**70 + 1},
    {"id": ["x"]},
    {"id": ["y"]},
    {"id": '["x"]'},
    {"sub": {"k": 1}},
    {"sub": {"k": 2}},
    {"id": 1.5},
    {"id": True},
]


def config(algorithm: str, backend: str) -> str:
    extra = "".join(f"      {line}\n" for line in backend.splitlines())
    return (
        "plugins:\n"
        "  - name: RateLimiterPlugin\n"
        "    kind: builtin/rate_limiter\n"
        "    hooks: [tool_pre_invoke]\n"
        "    mode: enforce\n"
        "    config:\n"
        '      by_user: "2/m"\n'
        f"      algorithm: {algorithm}\n" + extra
    )


async def load(tmp_path: Path, body: str) -> TenantPluginManager:
    path = tmp_path / "plugins.yaml"
    path.write_text(body)
    manager = TenantPluginManager(str(path))
    await manager.initialize()
    return manager


def gctx(user: Any) -> GlobalContext:
    return GlobalContext(request_id="r", user=user)


async def three_calls(manager: TenantPluginManager, user: Any) -> list[bool]:
    out = []
    for _ in range(3):
        result, _ = await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="t", args={}), gctx(user))
        out.append(result.continue_processing)
    return out


async def three_direct_calls(manager: TenantPluginManager, user: Any) -> list[bool]:
    plugin = manager._registry.get_plugin("RateLimiterPlugin").plugin
    out = []
    for _ in range(3):
        result = await plugin.tool_pre_invoke(ToolPreInvokePayload(name="t", args={}),
                                              PluginContext(global_context=gctx(user)))
        out.append(result.continue_processing)
    return out


async def check_every_user(tmp_path: Path, algorithm: str, backend: str) -> None:
    for runner in (three_calls, three_direct_calls):
        manager = await load(tmp_path, config(algorithm, backend.replace("RUNNER", runner.__name__)))
        try:
            for user in USERS:
                assert await runner(manager, user) == [True, True, False], (runner.__name__, user)
        finally:
            await manager.shutdown()


@pytest.mark.parametrize("algorithm", ALGORITHMS)
async def test_memory_backend_counts_each_user_exactly(tmp_path: Path, algorithm: str) -> None:
    await check_every_user(tmp_path, algorithm, "")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
async def test_redis_backend_counts_each_user_exactly(tmp_path: Path, algorithm: str, redis_url: str) -> None:  # noqa: F811
    prefix = f"ids-{algorithm}-RUNNER"
    await check_every_user(tmp_path, algorithm, f'backend: redis\nredis_url: "{redis_url}"\nredis_key_prefix: {prefix}\n')


@pytest.mark.parametrize("value", [float("nan"), {1: "a", "b": 2}, object()])
async def test_values_json_cannot_encode_still_get_a_counter(tmp_path: Path, value: Optional[Any]) -> None:
    manager = await load(tmp_path, config("fixed_window", ""))
    try:
        assert await three_calls(manager, {"id": value}) == [True, True, False]
    finally:
        await manager.shutdown()


# A Redis that accepts connections and never answers (issue 10, item 3).


@pytest.fixture
def silent_redis() -> Iterator[str]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.05)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            held.append(conn)  # read nothing, answer nothing

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        server.close()


@pytest.mark.parametrize("algorithm", ALGORITHMS)
async def test_silent_redis_fail_closed_blocks_under_on_error_ignore(tmp_path: Path, algorithm: str,
                                                                     silent_redis: str) -> None:
    # fail_mode: closed must hold even though on_error: ignore would swallow a timeout:
    # the limiter gives Redis the executor's timeout minus a reserve and blocks itself.
    body = config(algorithm, f'backend: redis\nredis_url: "{silent_redis}"\nfail_mode: closed\n')
    body = body.replace("    mode: enforce\n", "    mode: enforce\n    on_error: ignore\n")
    path = tmp_path / "plugins.yaml"
    path.write_text(body)
    # 0.5 s: below go-redis's 1 s read timeout, which the old code waited for
    manager = TenantPluginManager(str(path), timeout=0.5)  # type: ignore[arg-type]
    await manager.initialize()
    try:
        start = time.monotonic()
        result, _ = await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="t", args={}), gctx("u"))
        print(f"{algorithm}: silent Redis answered in {time.monotonic() - start:.3f} s (timeout 0.5 s)")
        assert result.continue_processing is False
        assert result.violation.code == "BACKEND_UNAVAILABLE"
    finally:
        await manager.shutdown()
