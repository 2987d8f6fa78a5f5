"""Pre-fork servers: importing the framework never starts the Go runtime, so a forked worker
can use a manager; a worker forked after its parent started the core gets a clear error.

Each case runs in a fresh interpreter (the pytest process itself has long started the core).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from typing import Any, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# Shared by the scripts: a tenant manager with two Python plugins, one hook call.
PRELUDE = f"""
import asyncio, os, sys
sys.path.insert(0, {HERE!r})
import cpex.framework
from cpex import _core
from cpex.framework import GlobalContext, PluginConfig, TenantPluginManager, ToolPreInvokePayload
from cpex.framework.models import Config

def manager():
    config = Config(plugins=[
        PluginConfig(name="a", kind="fixture_plugins.SetArg", hooks=["tool_pre_invoke"],
                     config={{"key": "a", "value": 1}}),
        PluginConfig(name="b", kind="fixture_plugins.SetArg", hooks=["tool_pre_invoke"], priority=200,
                     config={{"key": "b", "value": 2}}),
    ])
    return TenantPluginManager(config)

async def use():
    m = manager()
    await m.initialize()
    result, _ = await m.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="t", args={{}}),
                                    GlobalContext(request_id="r"))
    await m.shutdown()
    return result.modified_payload.args

def child(body):
    pid = os.fork()
    if pid == 0:
        code = 99
        try:
            code = body()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)
"""


def _run(code: str, env: Optional[dict[str, str]] = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **(env or {})}
    env["PYTHONPATH"] = os.pathsep.join([os.path.join(ROOT, "python"), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-c", PRELUDE + textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=120, env=env, cwd=ROOT)


def test_manager_in_a_child_forked_after_import() -> None:
    proc = _run(
        """
        assert not _core.started()
        m = manager()                      # building a manager does not start the core either
        assert not _core.started()

        def body():
            return 0 if asyncio.run(use()) == {"a": 1, "b": 2} else 3

        print(child(body), child(body), _core.started())
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["0", "0", "False"]


def test_child_of_a_parent_that_started_the_core_gets_a_clear_error() -> None:
    proc = _run(
        """
        assert asyncio.run(use()) == {"a": 1, "b": 2}
        assert _core.started()

        def body():
            try:
                asyncio.run(use())
            except _core.CoreUnavailableError as exc:
                return 0 if "fork" in str(exc) and "worker" in str(exc) else 5
            return 6

        print(child(body))
        # the parent itself still works after the fork
        print(asyncio.run(use()) == {"a": 1, "b": 2})
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["0", "True"]


DENY_CONFIG = """
plugins:
  - name: deny
    kind: builtin/deny_list
    hooks: [tool_pre_invoke]
    config: {words: [forbidden]}
"""

# The repro of issue 10, item 1: a parent that used a Go guard forks (multiprocessing's
# fork context, default settings: PLUGINS_FAIL_ON_PLUGIN_ERROR unset); the child builds
# its own manager from the same file. Before, the guard was skipped with a logged error
# and the call was allowed unscanned.
GUARD_AFTER_FORK = """
import multiprocessing
from cpex.framework import PluginViolationError

path = os.path.join(os.environ["CPEX_TEST_DIR"], "deny.yaml")

async def invoke(m):
    result, _ = await m.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="t", args={"q": "forbidden"}),
                                    GlobalContext(request_id="r"))
    return result

async def parent():
    m = TenantPluginManager(path)
    await m.initialize()
    assert not (await invoke(m)).continue_processing
    return m

inherited = asyncio.run(parent())

def fresh_manager(queue):
    async def go():
        m = TenantPluginManager(path)
        await m.initialize()
        return await invoke(m)
    report(queue, go)

def inherited_manager(queue):
    report(queue, lambda: invoke(inherited))

def report(queue, go):
    try:
        result = asyncio.run(go())
        queue.put(f"allowed={result.continue_processing}")
    except _core.CoreUnavailableError as exc:
        queue.put("CoreUnavailableError" if "spawn" in str(exc) else "unclear message: " + str(exc))
    except BaseException as exc:
        queue.put(f"{type(exc).__name__}: {exc}")

ctx = multiprocessing.get_context("fork")
for target in (fresh_manager, inherited_manager):
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(queue,))
    proc.start()
    print(queue.get(timeout=60))
    proc.join(60)
"""


def test_a_go_guard_never_allows_in_a_child_forked_after_the_core_started(tmp_path: Any) -> None:
    (tmp_path / "deny.yaml").write_text(DENY_CONFIG)
    proc = _run(GUARD_AFTER_FORK, env={"CPEX_TEST_DIR": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["CoreUnavailableError", "CoreUnavailableError"]


# What the error advises: a 'spawn' or 'forkserver' worker is a fresh interpreter, so it
# runs the guard even when its parent had started the core.
FRESH_INTERPRETER_WORKERS = """
import multiprocessing

path = os.path.join(os.environ["CPEX_TEST_DIR"], "deny.yaml")

async def blocked():
    m = TenantPluginManager(path)
    await m.initialize()
    result, _ = await m.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="t", args={"q": "forbidden"}),
                                    GlobalContext(request_id="r"))
    return not result.continue_processing

def worker(queue):
    queue.put(asyncio.run(blocked()))

if __name__ == "__main__":
    assert asyncio.run(blocked()) and _core.started()
    for method in ("spawn", "forkserver"):
        ctx = multiprocessing.get_context(method)
        queue = ctx.Queue()
        proc = ctx.Process(target=worker, args=(queue,))
        proc.start()
        print(method, queue.get(timeout=60))
        proc.join(60)
"""


def test_spawn_and_forkserver_workers_of_a_started_parent_run_the_guard(tmp_path: Any) -> None:
    (tmp_path / "deny.yaml").write_text(DENY_CONFIG)
    script = tmp_path / "workers.py"  # spawn re-imports __main__: it must be a file
    script.write_text(PRELUDE + textwrap.dedent(FRESH_INTERPRETER_WORKERS))
    env = {**os.environ, "CPEX_TEST_DIR": str(tmp_path)}
    env["PYTHONPATH"] = os.pathsep.join([os.path.join(ROOT, "python"), HERE, env.get("PYTHONPATH", "")])
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=env,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["spawn", "True", "forkserver", "True"]


def test_core_unavailable_error_is_a_runtime_error() -> None:
    from cpex import _core

    assert issubclass(_core.CoreUnavailableError, RuntimeError)
