"""Long or I/O-bound Go work runs off the event loop (DESIGN.md, "The boundary";
docs/protocol.md, go steps' ``async``): the same results as the blocking calls, a loop
that keeps running meanwhile, and a cancelled wait that leaves everything usable."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from cpex import _core
from cpex.framework import GlobalContext, PluginContext, TenantPluginManager, ToolPreInvokePayload, _gowait
from cpex.framework.models import Config, PluginConfig
from offloop_spy import OffLoopSpy
from test_builtin_regex_deny_rate import redis_url  # noqa: F401 - the module's redis-server fixture

BIG = {"q": "what crap " * 30000, "more": ["a secret crap"] * 200}  # ~300 KB of JSON: above the threshold
SMALL = {"q": "what crap"}


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> OffLoopSpy:
    s = OffLoopSpy()
    monkeypatch.setattr(_gowait, "run_off_loop", s)
    return s


@pytest.fixture
def sync_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(_gowait, "enabled", False)
    yield


def guards(*extra: PluginConfig) -> list[PluginConfig]:
    return [
        PluginConfig(name="redact", kind="builtin/regex_replace", hooks=["tool_pre_invoke"], priority=10,
                     config={"words": [{"search": "crap", "replace": "crud"}]}),
        PluginConfig(name="deny", kind="builtin/deny_list", hooks=["tool_pre_invoke"], priority=20,
                     config={"words": ["forbidden"]}),
        *extra,
    ]


async def manager_of(plugins: list[PluginConfig], **kw: Any) -> TenantPluginManager:
    manager = TenantPluginManager(Config(plugins=plugins), **kw)
    await manager.initialize()
    return manager


async def invoke(manager: TenantPluginManager, args: dict[str, Any], name: str = "search", user: Any = "u") -> Any:
    result, _ = await manager.invoke_hook(
        "tool_pre_invoke", ToolPreInvokePayload(name=name, args=args),
        GlobalContext(request_id="r", server_id="srv", user=user))
    return result


def observable(result: Any) -> dict[str, Any]:
    """What a caller sees of a result, durations aside."""
    return {
        "cont": result.continue_processing,
        "payload": result.modified_payload.model_dump() if result.modified_payload is not None else None,
        "violation": result.violation.model_dump() if result.violation is not None else None,
        "metadata": result.metadata,
        "retry": result.retry_delay_ms,
        "records": [r.model_dump(exclude={"duration_ns"}) for r in result.executions or []],
    }


def runs_held() -> int:
    return int(orjson.loads(_core.native().pybind_Stats())["runs"])


# not ASCII: the payload crosses as UTF-8 bytes by address, the new payload comes back the same way
WIDE = {**BIG, "more": ["un secret crap é ü 漢字 🎉"] * 200, "odd": 'crap\n"q" \\n \u2028\u2029 \x00 </script> {"x":1}\n'}
# a lone surrogate: orjson refuses it, the payload is written by the escaping fallback
LONE = {**BIG, "odd": "x\ud800y"}


@pytest.mark.parametrize(
    "args",
    [BIG, {**BIG, "q": "forbidden " + BIG["q"]}, WIDE, LONE],
    ids=["modified", "blocked", "not-ascii", "lone-surrogate"],
)
async def test_a_large_payload_goes_off_the_loop_with_the_same_result(
    spy: OffLoopSpy, monkeypatch: pytest.MonkeyPatch, args: dict[str, Any]
) -> None:
    manager = await manager_of(guards())
    off = observable(await invoke(manager, args))
    assert spy.calls == 1
    monkeypatch.setattr(_gowait, "enabled", False)
    assert observable(await invoke(manager, args)) == off
    assert spy.calls == 1, "the blocking path does not wait off the loop"
    assert off["cont"] is ("forbidden" not in args["q"])
    if off["cont"]:
        assert "crap" not in orjson.dumps(off["payload"]).decode(), "the new payload came back"
    assert not _gowait._lent, "nothing lent to Go stays after its answer"
    await manager.shutdown()


async def test_a_small_payload_stays_a_plain_call(spy: OffLoopSpy) -> None:
    manager = await manager_of(guards())
    result = await invoke(manager, SMALL)
    assert result.modified_payload.args == {"q": "what crud"}
    assert spy.calls == 0
    await manager.shutdown()


async def ticks_during(manager: TenantPluginManager, args: dict[str, Any]) -> int:
    """How many loop iterations a concurrent ticker made while the hook ran."""
    ticks = 0
    stop = False

    async def ticker() -> None:
        nonlocal ticks
        while not stop:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)  # the ticker is running
    before = ticks
    await invoke(manager, args)
    during = ticks - before
    stop = True
    await task
    return during


async def test_the_loop_keeps_running_while_go_works(spy: OffLoopSpy, monkeypatch: pytest.MonkeyPatch) -> None:
    manager = await manager_of(guards())
    assert await ticks_during(manager, BIG) >= 1
    assert spy.calls == 1
    monkeypatch.setattr(_gowait, "enabled", False)
    # the contrast: a plain call holds the loop for the whole Go work
    assert await ticks_during(manager, BIG) == 0
    await manager.shutdown()


def rate_limiter(url: str, prefix: str, **fields: Any) -> PluginConfig:
    return PluginConfig(name="limit", kind="builtin/rate_limiter", hooks=["tool_pre_invoke"], priority=5,
                        config={"by_user": "2/m", "backend": "redis", "redis_url": url,
                                "redis_key_prefix": prefix, "redis_fallback": False, "fail_mode": "open"},
                        **fields)


async def test_the_redis_rate_limiter_always_goes_off_the_loop(
    spy: OffLoopSpy, monkeypatch: pytest.MonkeyPatch, redis_url: str  # noqa: F811
) -> None:
    prefix = f"async{os.getpid()}"
    manager = await manager_of(guards(rate_limiter(redis_url, prefix)))
    off = [observable(await invoke(manager, SMALL, user="dora")) for _ in range(3)]
    assert spy.calls == 3, "an I/O-bound Go plugin goes off the loop whatever the payload size"
    assert [r["cont"] for r in off] == [True, True, False]
    assert off[2]["violation"]["code"] == "RATE_LIMIT"
    monkeypatch.setattr(_gowait, "enabled", False)
    plain = [observable(await invoke(manager, SMALL, user="erin")) for _ in range(3)]
    assert spy.calls == 3

    def same_but_user(r: dict[str, Any]) -> dict[str, Any]:
        r = orjson.loads(orjson.dumps(r).replace(b"erin", b"dora"))
        if r["violation"]:  # the window's remaining seconds may tick between the two users
            r["violation"]["details"].pop("reset_in_seconds", None)
            r["violation"].pop("http_headers", None)
        return r

    assert [same_but_user(r) for r in plain] == [same_but_user(r) for r in off]
    await manager.shutdown()


@pytest.fixture
def silent_redis() -> Iterator[str]:
    """A loopback port that accepts connections and never answers: Go work that stays
    pending until the test closes it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    try:
        yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    finally:
        server.close()


async def test_a_cancelled_wait_leaves_the_manager_usable(spy: OffLoopSpy, silent_redis: str) -> None:
    from cpex.framework import PluginCondition

    manager = await manager_of(guards(rate_limiter(silent_redis, "cancel", conditions=[PluginCondition(tools=["slow"])])))
    held = runs_held()
    task = asyncio.create_task(invoke(manager, SMALL, name="slow"))
    await spy.started.wait()  # the Go work is pending on the silent server
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert runs_held() == held, "the cancelled run was aborted in the core"
    # the same manager serves the next requests (the limiter's condition skips them)
    assert (await invoke(manager, SMALL, name="fast")).modified_payload.args == {"q": "what crud"}
    big = await invoke(manager, BIG, name="fast")
    assert big.continue_processing is True and "crap" not in orjson.dumps(big.modified_payload.args).decode()
    assert spy.calls == 2
    await manager.shutdown()


async def test_a_go_plugin_called_directly_goes_off_the_loop(spy: OffLoopSpy, monkeypatch: pytest.MonkeyPatch) -> None:
    manager = await manager_of(guards())
    plugin = manager._registry.get_plugin("redact").plugin
    context = PluginContext(global_context=GlobalContext(request_id="r"))
    payload = ToolPreInvokePayload(name="search", args=BIG)
    off = await plugin.tool_pre_invoke(payload, context)
    assert spy.calls == 1
    monkeypatch.setattr(_gowait, "enabled", False)
    plain = await plugin.tool_pre_invoke(payload, context)
    assert spy.calls == 1
    assert off.model_dump() == plain.model_dump()
    assert "crap" not in orjson.dumps(off.modified_payload.args).decode()
    await manager.shutdown()


async def test_run_off_loop_reuses_its_pipes_and_reports_start_errors() -> None:
    loop = asyncio.get_running_loop()

    def start_fails(fd: int) -> None:
        raise RuntimeError("RunGoStart: fd 3: bad file descriptor")

    with pytest.raises(RuntimeError, match="RunGoStart: fd"):
        await _gowait.run_off_loop(start_fails, lambda: "unused")
    pool = _gowait._pools[loop]
    assert len(pool.free) == 1 and len(pool.owned) == 1, "a failed start gives its pipe back"

    def start_writes(fd: int) -> None:
        os.write(fd, b"\x01")  # what the core's goroutine does when done

    assert await _gowait.run_off_loop(start_writes, lambda: "answer") == "answer"
    assert len(pool.owned) == 1, "the pipe is reused"
    pool.close()
    assert not pool.owned and not pool.free


async def test_run_off_loop_keeps_what_it_lent_until_go_signalled() -> None:
    # Go reads a lent buffer by address until it writes its byte: a cancelled wait must
    # not let the buffer go before that.
    lent = b"{\"payload\":1}"
    fds: list[int] = []
    task = asyncio.ensure_future(_gowait.run_off_loop(fds.append, lambda: "answer", lent=lent))
    await asyncio.sleep(0)
    assert fds and lent in _gowait._lent.values()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert lent in _gowait._lent.values(), "still lent: Go has not signalled"
    os.write(fds[0], b"\x01")  # what the core's goroutine does when done
    for _ in range(3):
        await asyncio.sleep(0)
    assert lent not in _gowait._lent.values()

    def refused(fd: int) -> None:
        raise RuntimeError("RunGoStart: n: want a length from 0")

    with pytest.raises(RuntimeError, match="RunGoStart: n"):
        await _gowait.run_off_loop(refused, lambda: "unused", lent=lent)
    assert not _gowait._lent, "a refused start lends nothing"
