"""Smoke test of an installed cpex wheel, run by scripts/build-wheels.sh in a fresh
virtualenv whose PATH has no Go toolchain: import, load a config with a Python plugin and
a Go built-in, invoke a hook, check what each did. Exits non-zero on any failure."""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import textwrap
from pathlib import Path

PLUGIN = '''
from cpex.framework import Plugin, ToolPreInvokeResult

class Tagger(Plugin):
    async def tool_pre_invoke(self, payload, context):
        args = dict(payload.args)
        args["tagged"] = "yes"
        return ToolPreInvokeResult(modified_payload=payload.model_copy(update={"args": args}))
'''

CONFIG = '''
plugin_dirs: []
plugins:
  - name: tagger
    kind: smoke_plugin.Tagger
    hooks: [tool_pre_invoke]
    mode: sequential
    priority: 10
  - name: deny
    kind: builtin/deny_list
    hooks: [tool_pre_invoke]
    mode: sequential
    priority: 20
    config:
      words: [forbidden]
'''


async def main() -> None:
    assert shutil.which("go") is None, "the smoke test must run without a Go toolchain on PATH"
    import cpex
    from cpex.framework import GlobalContext, PluginManager, ToolPreInvokePayload

    here = Path(cpex.__file__).resolve()
    assert "site-packages" in here.parts, f"cpex imported from {here}, not from the installed wheel"
    assert cpex.__core_version__ == cpex.__version__, (cpex.__core_version__, cpex.__version__)
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "smoke_plugin.py").write_text(textwrap.dedent(PLUGIN))
        Path(tmp, "config.yaml").write_text(CONFIG)
        sys.path.insert(0, tmp)
        manager = PluginManager(str(Path(tmp, "config.yaml")))
        await manager.initialize()
        assert manager.plugin_count == 2, manager.plugin_count
        ok, _ = await manager.invoke_hook(
            "tool_pre_invoke", ToolPreInvokePayload(name="search", args={"q": "weather"}), GlobalContext(request_id="1")
        )
        assert ok.continue_processing and ok.modified_payload.args["tagged"] == "yes", ok
        blocked, _ = await manager.invoke_hook(
            "tool_pre_invoke", ToolPreInvokePayload(name="search", args={"q": "a forbidden word"}), GlobalContext(request_id="2")
        )
        assert not blocked.continue_processing and blocked.violation is not None, blocked
        await manager.shutdown()
    print(f"cpex {cpex.__version__} (core {cpex.__core_version__}) on Python {sys.version.split()[0]}: smoke test passed")


if __name__ == "__main__":
    asyncio.run(main())
