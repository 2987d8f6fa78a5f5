"""Builders of the golden files under tests/cases/{config,settings,hooktypes}/.

Each builder imports only `cpex.framework` names that upstream cpex 0.1.4 has too, so
scripts/gen-upstream-goldens.py runs the same builders inside a throwaway venv with
upstream installed (the `upstream-0.1.4.json` files). tests/py/test_goldens.py compares
ours with the files (CPEX_UPDATE_GOLDENS=1 rewrites them) and with upstream's; the Go
tests read the same files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CASES_DIR = Path(__file__).resolve().parents[1] / "cases"

# PLUGINS_* environments: each is the whole PLUGINS_* environment of one load.
SETTINGS_VECTORS: dict[str, dict[str, str]] = {
    "defaults": {},
    "enabled_true": {"PLUGINS_ENABLED": "true"},
    "enabled_one": {"PLUGINS_ENABLED": "1"},
    "enabled_false_upper": {"PLUGINS_ENABLED": "FALSE"},
    "policy_deny": {"PLUGINS_DEFAULT_HOOK_POLICY": "deny"},
    "timeout_and_pool": {"PLUGINS_PLUGIN_TIMEOUT": "5", "PLUGINS_EXECUTION_POOL": "0"},
    "timeout_not_int": {"PLUGINS_PLUGIN_TIMEOUT": "abc"},
    "pool_not_int": {"PLUGINS_EXECUTION_POOL": "1.5"},
    "float_settings": {"PLUGINS_HTTPX_READ_TIMEOUT": "2.5", "PLUGINS_HTTPX_POOL_TIMEOUT": "3"},
    "float_not_number": {"PLUGINS_HTTPX_CONNECT_TIMEOUT": "soon"},
    "config_file": {"PLUGINS_CONFIG_FILE": "/etc/cpex/plugins.yaml"},
    "log_level": {"PLUGINS_LOG_LEVEL": "DEBUG"},
    "ssrf_off": {"PLUGINS_SSRF_PROTECTION_ENABLED": "false"},
    "fail_on_error": {"PLUGINS_FAIL_ON_PLUGIN_ERROR": "true"},
    "server_port": {"PLUGINS_SERVER_HOST": "0.0.0.0", "PLUGINS_SERVER_PORT": "8000"},
    "server_port_not_int": {"PLUGINS_SERVER_PORT": "http"},
    "secret_masked": {"PLUGINS_CLIENT_MTLS_KEYFILE_PASSWORD": "hunter2"},
    "optional_bool": {"PLUGINS_CLIENT_MTLS_VERIFY": "false", "PLUGINS_SERVER_SSL_ENABLED": "true"},
    "bool_not_bool": {"PLUGINS_SKIP_SSL_VERIFY": "maybe"},
    "unix_socket_alias": {"UNIX_SOCKET_PATH": "/tmp/cpex.sock"},
    "transport": {"PLUGINS_TRANSPORT": "grpc"},
    # cpex-go extensions (EXTENSION_SETTINGS): upstream ignores these variables
    "metrics_enabled": {"PLUGINS_METRICS_ENABLED": "true"},
    "metrics_enabled_on": {"PLUGINS_METRICS_ENABLED": "on"},
    "metrics_not_bool": {"PLUGINS_METRICS_ENABLED": "sometimes"},
}

# Settings cpex-go adds to upstream's: absent from upstream's dumps, and vectors that set
# them expect upstream's defaults there (test_goldens.test_settings_match_upstream).
EXTENSION_SETTINGS: dict[str, str] = {"metrics_enabled": "PLUGINS_METRICS_ENABLED"}


@contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    """Exactly env as the PLUGINS_* (and alias) environment, restored afterwards."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("PLUGINS_") or k == "UNIX_SOCKET_PATH"}
    for key in saved:
        del os.environ[key]
    os.environ.update(env)
    try:
        yield
    finally:
        for key in env:
            os.environ.pop(key, None)
        os.environ.update(saved)


def build_settings() -> dict[str, Any]:
    from cpex.framework.settings import PluginsSettings

    cases = []
    for name, env in SETTINGS_VECTORS.items():
        entry: dict[str, Any] = {"name": name, "env": env}
        with environment(env):
            try:
                entry["settings"] = PluginsSettings().model_dump(mode="json")
            except Exception:  # a rejected environment is the expected outcome of some vectors
                entry["error"] = True
        cases.append(entry)
    return {"source": "cpex.framework.settings.PluginsSettings().model_dump(mode='json') per environment",
            "cases": cases}


def _name(cls: Any) -> Any:
    return None if cls is None else cls.__name__


def build_hooktypes() -> dict[str, Any]:
    """The hook registry after `import cpex.framework`: names in registration order,
    payload and result types, and the payload attribute conditions test (spec §12)."""
    import cpex.framework  # noqa: F401  (registers the built-in hooks)
    from cpex.framework.hooks.registry import get_hook_registry
    from cpex.framework.utils import get_matchable_value

    registry = get_hook_registry()
    hooks = []
    for hook in registry.get_registered_hooks():
        name = str(getattr(hook, "value", hook))
        payload_type = registry.get_payload_type(hook)
        hooks.append({"hook": name, "payload": _name(payload_type), "result": _name(registry.get_result_type(hook)),
                      "match_attr": _match_attr(get_matchable_value, name)})
    return {"source": "cpex.framework.hooks.registry.get_hook_registry() after import cpex.framework", "hooks": hooks}


class _Probe:
    """Answers every attribute with its own name: shows which attribute conditions read."""

    def __getattr__(self, name: str) -> str:
        return name


def _match_attr(get_matchable_value: Any, hook: str) -> Any:
    return get_matchable_value(_Probe(), hook)


def build_config() -> dict[str, Any]:
    import golden_config_docs

    return golden_config_docs.build()


BUILDERS = {"config/config.json": build_config, "settings/settings.json": build_settings,
            "hooktypes/hooktypes.json": build_hooktypes}
UPSTREAM = {"settings/upstream-0.1.4.json": build_settings, "hooktypes/upstream-0.1.4.json": build_hooktypes}


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"
