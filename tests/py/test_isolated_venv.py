"""kind: isolated_venv through the PluginManager: a real venv (built once per session,
offline), our worker in it, the Go host in between.

tests/interop runs the same plugin with upstream cpex 0.1.4 installed in the venv
(its worker serving our host).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from cpex.framework import GlobalContext, PluginError, TenantPluginManager, ToolPreInvokePayload
from cpex.framework.loader import plugin as loader_plugin
from isolated_venvs import plugin_tree, shim_wheel


@pytest.fixture(scope="session")
def plugin_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """plugin_dirs[0] with the test package; its venv is cached there for the session."""
    root = tmp_path_factory.mktemp("isolated")
    plugins = root / "plugins"
    pkg = plugin_tree(plugins)
    wheel = shim_wheel(root)
    (pkg / "requirements.txt").write_text(f"{wheel}\n")
    return root


@pytest.fixture
def in_root(plugin_root: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    # The worker allows plugin_dirs under its working directory (the host's), as upstream.
    monkeypatch.chdir(plugin_root)
    monkeypatch.setattr(loader_plugin, "ALLOWED_PLUGIN_DIRS", {str(plugin_root)})
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    yield plugin_root


def write_config(root: Path, name: str = "Shout", **extra: Any) -> str:
    entry: dict[str, Any] = {
        "name": name,
        "kind": "isolated_venv",
        "hooks": ["tool_pre_invoke"],
        "config": {"class_name": "myiso.plugin.Shout", "requirements_file": "requirements.txt"},
        **extra,
    }
    path = root / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"plugins": [entry], "plugin_dirs": [str(root / "plugins")]}))
    return str(path)


async def call(manager: TenantPluginManager, name: str, **ctx: Any) -> Any:
    result, _ = await manager.invoke_hook(
        "tool_pre_invoke", ToolPreInvokePayload(name=name, args={"k": 1}), GlobalContext(request_id="req-" + name, **ctx)
    )
    return result


async def test_hook_calls_through_the_manager(in_root: Path) -> None:
    manager = TenantPluginManager(write_config(in_root), timeout=60)
    await manager.initialize()
    try:
        plugin = manager.get_plugin("Shout")
        assert plugin is not None and plugin.config.kind == "isolated_venv"
        venv = in_root / "plugins" / "myiso" / ".venv"
        assert (venv / "bin" / "python").exists()
        assert (in_root / "plugins" / "myiso" / ".cpex" / "venv_cache" / ".venv_metadata.json").exists()

        modified = await call(manager, "abc")
        assert modified.continue_processing
        assert modified.modified_payload is not None and modified.modified_payload.name == "ABC"
        assert modified.modified_payload.args == {"k": 1}

        blocked = await call(manager, "forbidden")
        assert not blocked.continue_processing
        assert blocked.violation is not None and blocked.violation.code == "FORBID"
        assert blocked.violation.plugin_name == "Shout"

        with pytest.raises(PluginError) as info:
            await call(manager, "raise")
        assert "plugin exploded" in str(info.value)
        assert info.value.error.plugin_name == "Shout"
    finally:
        await manager.shutdown()


async def test_an_oversized_answer_is_a_plugin_error(in_root: Path) -> None:
    manager = TenantPluginManager(write_config(in_root, name="Small", max_content_size=20_000), timeout=60)
    await manager.initialize()
    try:
        with pytest.raises(PluginError) as info:
            await call(manager, "big")
        assert "max content size" in str(info.value) or "max_content_size" in str(info.value)
        assert (await call(manager, "ok")).modified_payload.name == "OK", "the stream stays in sync"
    finally:
        await manager.shutdown()


async def test_failing_requirements_name_the_plugin_and_the_requirement(
    in_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plugins = tmp_path / "plugins"
    pkg = plugin_tree(plugins)
    (pkg / "requirements.txt").write_text("cpex-no-such-package-for-tests==9.9.9\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(loader_plugin, "ALLOWED_PLUGIN_DIRS", {str(tmp_path)})
    path = tmp_path / "bad.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "plugins": [
                    {
                        "name": "Broken",
                        "kind": "isolated_venv",
                        "hooks": ["tool_pre_invoke"],
                        "config": {"class_name": "myiso.plugin.Shout", "requirements_file": "requirements.txt"},
                    }
                ],
                "plugin_dirs": [str(plugins)],
                "plugin_settings": {"fail_on_plugin_error": False},
            }
        )
    )
    manager = TenantPluginManager(str(path), timeout=60)
    with pytest.raises(Exception) as info:  # a guard that cannot be built fails closed
        await manager.initialize()
    text = str(info.value)
    assert "Broken" in text
    assert "cpex-no-such-package-for-tests==9.9.9" in text
    assert "No matching distribution" in text
    assert not (pkg / ".cpex" / "venv_cache" / ".venv_metadata.json").exists()


def test_the_worker_module_is_importable_without_the_core() -> None:
    import cpex.framework.isolated.worker as worker

    assert worker.PROTOCOL_VERSION == 1
    assert set(worker.FEATURES) <= {"credential", "extensions", "modified_extensions"}
    assert os.path.basename(worker.__file__ or "") == "worker.py"


@pytest.mark.parametrize(
    ("chunks", "limit", "want"),
    [
        ([b'{"a":1}\n{"b":2}\n'], None, [(b'{"a":1}', False), (b'{"b":2}', False)]),
        ([b'{"a"', b":1}\n"], None, [(b'{"a":1}', False)]),
        ([b"x" * 10 + b"\nok\n"], 5, [(b"", True), (b"ok", False)]),
        ([b"x" * 6, b"x" * 6, b"x\nok\n"], 5, [(b"", True), (b"ok", False)]),
        ([b"12345\n"], 5, [(b"12345", False)]),
    ],
)
def test_the_workers_line_splitter(chunks: list[bytes], limit: int | None, want: list[tuple[bytes, bool]]) -> None:
    from cpex.framework.isolated.worker import LineSplitter

    splitter = LineSplitter()
    got: list[tuple[bytes, bool]] = []
    for chunk in chunks:
        got.extend(splitter.feed(chunk, limit))
    assert got == want


async def test_a_credential_hook_fails_closed_on_a_worker_without_the_feature(in_root: Path) -> None:
    # Our worker does not claim `credential`: a plugin with an identity hook must not run
    # on it (it would get the redacted token), so the load fails, naming the feature.
    import cpex.framework.hooks.identity  # noqa: F401  (registers identity_resolve)

    manager = TenantPluginManager(write_config(in_root, name="Ident", hooks=["identity_resolve"]), timeout=60)
    with pytest.raises(Exception) as info:
        await manager.initialize()
    text = str(info.value)
    assert "Ident" in text and "credential" in text


async def test_a_plugin_granted_capabilities_reads_the_extensions(in_root: Path) -> None:
    from cpex.framework.extensions import Extensions
    from cpex.framework.extensions.security import SecurityExtension

    path = in_root / "Labels.yaml"
    entries = [{"name": name, "kind": "isolated_venv", "hooks": ["tool_pre_invoke"], "priority": prio, **extra,
                "config": {"class_name": "myiso.plugin.Labels", "requirements_file": "requirements.txt"}}
               for name, prio, extra in (("Granted", 1, {"capabilities": ["read_labels"]}), ("NotGranted", 2, {}))]
    path.write_text(yaml.safe_dump({"plugins": entries, "plugin_dirs": [str(in_root / "plugins")]}))
    manager = TenantPluginManager(str(path), timeout=60)
    await manager.initialize()
    try:
        ext = Extensions(security=SecurityExtension(labels=frozenset({"pii", "internal"})))
        result, _ = await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name="x", args={}),
                                              GlobalContext(request_id="req-ext"), extensions=ext)
        assert result.continue_processing
        assert result.metadata["Granted"] == ["internal", "pii"], "the granted plugin reads the labels"
        assert result.metadata["NotGranted"] is None, "a plugin without capabilities gets no extensions"
    finally:
        await manager.shutdown()
