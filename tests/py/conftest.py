"""Shared fixtures: every test starts from a fresh Borg manager and fresh settings."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import Any, Callable, Optional

import pytest

# Test-only Go plugin kinds (builtin/test_context, pybind/testkinds.go): read by the
# extension when it loads, so set before any test starts the core.
os.environ.setdefault("CPEX_TEST_KINDS", "1")

HERE = os.path.dirname(os.path.abspath(__file__))
# Test plugins are loaded by dotted class path (kind: fixture_plugins.<Class>).
if HERE not in sys.path:
    sys.path.insert(0, HERE)


@pytest.fixture(autouse=True)
def _fresh_manager_and_settings() -> Iterator[None]:
    import cpex.framework
    from cpex.framework.manager import PluginManager
    from cpex.framework.settings import settings

    PluginManager.reset()
    cpex.framework._plugin_manager = None
    settings.cache_clear()
    yield
    PluginManager.reset()
    cpex.framework._plugin_manager = None
    settings.cache_clear()


@pytest.fixture
def make_ref() -> Callable[..., Any]:
    """Build a HookRef for a plugin class with a PluginConfig made of the given fields."""
    from cpex.framework.base import HookRef, PluginRef
    from cpex.framework.models import PluginConfig

    def build(cls: type, hook: str = "tool_pre_invoke", name: Optional[str] = None, **fields: Any) -> HookRef:
        fields.setdefault("hooks", [hook])
        config = PluginConfig(name=name or cls.__name__, kind=f"fixture_plugins.{cls.__name__}", **fields)
        return HookRef(hook, PluginRef(cls(config)))

    return build


@pytest.fixture
def gctx() -> Any:
    from cpex.framework.models import GlobalContext

    return GlobalContext(request_id="req-1", server_id="srv-1", tenant_id="t-1", user="alice@example.com")
