"""The embedded policy engines (builtin/pdp_cel, builtin/pdp_cedar, builtin/pdp_rego)
configured from YAML in a Python chain: decisions from the payload and the global context, a Python plugin after
them runs only on allow, and a policy that does not compile fails the load naming the
plugin and the line."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from cpex.framework import GlobalContext, Plugin, PluginContext, PluginResult, TenantPluginManager, ToolPreInvokePayload

CALLED: list[str] = []


class Audit(Plugin):
    """Runs after the policies; records the tools it saw."""

    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> PluginResult:
        CALLED.append(payload.name)
        return PluginResult()


CHAIN = """
plugins:
  - name: rbac-cel
    kind: builtin/pdp_cel
    hooks: [tool_pre_invoke]
    mode: sequential
    priority: 10
    config:
      reason: tool not allowed for this role
      code: RBAC_DENY
      policy: |
        type(user) == map && "roles" in user &&
        ("admin" in user.roles || (tenant_id == "acme" && payload.name.startsWith("read_")))
  - name: rbac-cedar
    kind: builtin/pdp_cedar
    hooks: [tool_pre_invoke]
    mode: sequential
    priority: 20
    config:
      policy_file: {cedar_file}
  - name: audit
    kind: test_pdp_engines.Audit
    hooks: [tool_pre_invoke]
    priority: 30
"""

CEDAR = """
permit (principal, action == Action::"tool_pre_invoke", resource);

@reason("interns cannot touch production data")
forbid (principal in Role::"intern", action, resource)
when { context.payload.args has env && context.payload.args.env == "prod" };
"""


async def _manager(tmp_path: Path, chain: str = CHAIN) -> TenantPluginManager:
    CALLED.clear()
    cedar = tmp_path / "rbac.cedar"
    cedar.write_text(CEDAR)
    path = tmp_path / "plugins.yaml"
    path.write_text(textwrap.dedent(chain).replace("{cedar_file}", str(cedar)))
    manager = TenantPluginManager(str(path))
    await manager.initialize()
    return manager


def _ctx(user: Any, tenant: str = "acme") -> GlobalContext:
    return GlobalContext(request_id="req-pdp", user=user, tenant_id=tenant, server_id="srv")


@pytest.mark.parametrize(
    ("tool", "args", "user", "tenant", "denied_by", "reason"),
    [
        ("read_sales", {}, {"id": "bob", "roles": ["analyst"]}, "acme", None, None),
        ("write_sales", {}, {"id": "bob", "roles": ["analyst"]}, "acme", "rbac-cel", "tool not allowed for this role"),
        ("read_sales", {}, {"id": "bob", "roles": ["analyst"]}, "globex", "rbac-cel", "tool not allowed for this role"),
        ("read_sales", {}, "bob", "acme", "rbac-cel", "tool not allowed for this role"),
        (
            "delete_db",
            {"env": "prod"},
            {"id": "ian", "roles": ["admin", "intern"]},
            "acme",
            "rbac-cedar",
            "interns cannot touch production data",
        ),
        ("delete_db", {"env": "dev"}, {"id": "ian", "roles": ["admin", "intern"]}, "acme", None, None),
    ],
)
async def test_engines_decide_in_a_python_chain(
    tmp_path: Path, tool: str, args: dict[str, Any], user: Any, tenant: str, denied_by: str | None, reason: str | None
) -> None:
    manager = await _manager(tmp_path)
    result, _ = await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name=tool, args=args), _ctx(user, tenant))
    if denied_by is None:
        assert result.continue_processing is True
        assert result.violation is None
        assert CALLED == [tool]
    else:
        assert result.continue_processing is False
        assert result.violation is not None
        assert (result.violation.plugin_name, result.violation.reason) == (denied_by, reason)
        assert result.violation.code == ("RBAC_DENY" if denied_by == "rbac-cel" else "PDP_DENY")
        assert CALLED == []
    await manager.shutdown()


REGO_CHAIN = """
plugins:
  - name: rbac-rego
    kind: builtin/pdp_rego
    hooks: [tool_pre_invoke]
    mode: sequential
    priority: 10
    config:
      reason: tool not allowed for this role
      policy: |
        package cpex.tools

        default allow := false

        allow if "admin" in input.user.roles

        allow if {
          "analyst" in input.user.roles
          input.tenant_id == "acme"
          startswith(input.payload.name, "read_")
        }

        deny contains "production is closed" if input.payload.args.env == "prod"
  - name: audit
    kind: test_pdp_engines.Audit
    hooks: [tool_pre_invoke]
    priority: 20
"""


@pytest.mark.parametrize(
    ("tool", "args", "user", "tenant", "reason"),
    [
        ("read_sales", {}, {"id": "bob", "roles": ["analyst"]}, "acme", None),
        ("delete_db", {}, {"id": "alice", "roles": ["admin"]}, "globex", None),
        ("write_sales", {}, {"id": "bob", "roles": ["analyst"]}, "acme", "tool not allowed for this role"),
        ("read_sales", {}, {"id": "bob", "roles": ["analyst"]}, "globex", "tool not allowed for this role"),
        ("read_sales", {}, "bob", "acme", "tool not allowed for this role"),
        ("read_sales", {}, None, "acme", "tool not allowed for this role"),
        ("delete_db", {"env": "prod"}, {"id": "alice", "roles": ["admin"]}, "acme", "production is closed"),
    ],
)
async def test_rego_decides_in_a_python_chain(
    tmp_path: Path, tool: str, args: dict[str, Any], user: Any, tenant: str, reason: str | None
) -> None:
    manager = await _manager(tmp_path, REGO_CHAIN)
    try:
        result, _ = await manager.invoke_hook(
            "tool_pre_invoke", ToolPreInvokePayload(name=tool, args=args), _ctx(user, tenant))
    finally:
        await manager.shutdown()
    if reason is None:
        assert (result.continue_processing, result.violation, CALLED) == (True, None, [tool])
        return
    assert result.continue_processing is False
    assert result.violation is not None
    assert (result.violation.plugin_name, result.violation.reason, result.violation.code) == (
        "rbac-rego", reason, "PDP_DENY")
    assert result.violation.details["engine"] == "pdp_rego"
    assert CALLED == []


async def test_policy_that_does_not_compile_fails_the_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from cpex.framework.settings import settings

    bad = CHAIN.replace('payload.name.startsWith("read_")))', 'payload.name.startsWith("read_"))')
    want = 'plugin "rbac-cel" (kind builtin/pdp_cel): pdp_cel: policy rbac-cel.policy does not compile: ERROR: rbac-cel.policy:3:'
    # With fail_on_plugin_error the load fails, naming the plugin and the line.
    monkeypatch.setenv("PLUGINS_FAIL_ON_PLUGIN_ERROR", "true")
    settings.cache_clear()
    with pytest.raises(RuntimeError, match="Plugin initialization failed: rbac-cel") as info:
        await _manager(tmp_path, bad)
    assert want in str(info.value)
    # Without it (the default) too: a guard that cannot run is never skipped into an allow
    # (upstream skips failed plugins then; core.LoadFailureFailsClosed).
    monkeypatch.delenv("PLUGINS_FAIL_ON_PLUGIN_ERROR")
    settings.cache_clear()
    with pytest.raises(RuntimeError, match="Plugin initialization failed: rbac-cel") as info:
        await _manager(tmp_path, bad)
    assert want in str(info.value) and want in caplog.text
