"""Pre-fork servers: importing the framework never starts the Go runtime, so a forked worker
can use a manager; a worker forked after its parent started the core gets a clear error.

Each case runs in a fresh interpreter (the pytest process itself has long started the core).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

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


def _run(code: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
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


def test_core_unavailable_error_is_a_runtime_error() -> None:
    from cpex import _core

    assert issubclass(_core.CoreUnavailableError, RuntimeError)
