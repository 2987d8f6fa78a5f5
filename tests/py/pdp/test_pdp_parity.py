"""Decision parity: builtin/pdp_cel and builtin/pdp_cedar against independent reference
implementations of the same languages, on a grid of requests. The references run in this
process: cedarpy (Python bindings of the Rust Cedar authorizer) and
common-expression-language (Python bindings of a Rust CEL interpreter); both are test
requirements (requirements-dev.txt). Our side runs through the whole stack: YAML, the
manager, the Go core."""

from __future__ import annotations

import itertools
import textwrap
from pathlib import Path
from typing import Any

import pytest

from cpex.framework import GlobalContext, TenantPluginManager, ToolPreInvokePayload

cedarpy = pytest.importorskip("cedarpy")
cel = pytest.importorskip("cel")

USERS: list[Any] = [
    {"id": "alice", "roles": ["admin"]},
    {"id": "bob", "roles": ["analyst"], "limit": 100},
    {"id": "ian", "roles": ["analyst", "intern"], "limit": 10},
    {"email": "eve@corp.io", "roles": []},
    "carol",
    None,
]
TOOLS = ["read_sales", "write_sales", "delete_db"]
TENANTS = ["acme", "globex"]
ARGS: list[dict[str, Any]] = [{}, {"env": "prod", "amount": 50}, {"env": "dev", "amount": 500}]
GRID = list(itertools.product(USERS, TOOLS, TENANTS, ARGS))

CEL_POLICIES = [
    # RBAC by role and tenant.
    'type(user) == map && "roles" in user && ("admin" in user.roles || '
    '("analyst" in user.roles && tenant_id == "acme" && payload.name.startsWith("read_")))',
    # Limits from the user object, with optional fields.
    'type(user) == map && (!("amount" in payload.args) || ("limit" in user && payload.args.amount <= user.limit))',
    # String functions and list macros.
    'hook == "tool_pre_invoke" && !payload.name.endsWith("_db") && '
    '(type(user) != map || !("roles" in user) || user.roles.all(r, r != "intern") || payload.args.size() == 0)',
]

CEDAR_POLICIES = [
    """
    permit (principal in Role::"admin", action, resource);
    permit (principal in Role::"analyst", action == Action::"tool_pre_invoke", resource)
    when { context.tenant_id == "acme" && context.payload.name like "read_*" };
    """,
    """
    permit (principal, action, resource);
    forbid (principal in Role::"intern", action, resource)
    when { context.payload.args has env && context.payload.args.env == "prod" };
    forbid (principal, action, resource == Tool::"delete_db") unless { principal in Role::"admin" };
    """,
    """
    permit (principal, action, resource)
    when { principal has limit && context.payload.args has amount && context.payload.args.amount <= principal.limit };
    permit (principal == User::"carol", action, resource) when { context.server_id == "srv" };
    """,
]


def _input(user: Any, tool: str, tenant: str, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "hook": "tool_pre_invoke",
        "payload": {"name": tool, "args": args, "headers": None},
        "user": user,
        "tenant_id": tenant,
        "server_id": "srv",
        "request_id": "req",
    }


def _cedar_reference(policy: str, user: Any, tool: str, tenant: str, args: dict[str, Any]) -> bool:
    # The request mapping of docs/pdp-cedar.md, written out for the reference authorizer.
    if isinstance(user, str) and user:
        uid = user
    elif isinstance(user, dict):
        uid = next((user[k] for k in ("id", "email", "sub") if isinstance(user.get(k), str) and user[k]), "anonymous")
    else:
        uid = "anonymous"
    attrs = {k: v for k, v in user.items() if v is not None} if isinstance(user, dict) else {}
    roles = [r for r in (user.get("roles") or []) if isinstance(r, str)] if isinstance(user, dict) else []
    entities = [{"uid": {"type": "User", "id": uid}, "attrs": attrs, "parents": [{"type": "Role", "id": r} for r in roles]}]
    entities += [{"uid": {"type": "Role", "id": r}, "attrs": {}, "parents": []} for r in roles]
    payload = {"name": tool, "args": args}  # headers: None is left out
    request = {
        "principal": f'User::"{uid}"',
        "action": 'Action::"tool_pre_invoke"',
        "resource": f'Tool::"{tool}"',
        "context": {"tenant_id": tenant, "server_id": "srv", "request_id": "req", "payload": payload},
    }
    return bool(cedarpy.is_authorized(request, policy, entities).allowed)


async def _ours(tmp_path: Path, kind: str, policy: str) -> list[bool]:
    (tmp_path / "policy.txt").write_text(textwrap.dedent(policy))
    (tmp_path / "plugins.yaml").write_text(
        f"plugins:\n  - name: p\n    kind: {kind}\n    hooks: [tool_pre_invoke]\n    mode: sequential\n"
        f"    config:\n      policy_file: {tmp_path / 'policy.txt'}\n"
    )
    manager = TenantPluginManager(str(tmp_path / "plugins.yaml"))
    await manager.initialize()
    out = []
    for user, tool, tenant, args in GRID:
        ctx = GlobalContext(request_id="req", user=user, tenant_id=tenant, server_id="srv")
        result, _ = await manager.invoke_hook("tool_pre_invoke", ToolPreInvokePayload(name=tool, args=args), ctx)
        out.append(result.continue_processing)
    await manager.shutdown()
    return out


@pytest.mark.parametrize("policy", CEL_POLICIES)
async def test_cel_parity(tmp_path: Path, policy: str) -> None:
    reference = [bool(cel.evaluate(policy, _input(u, t, tn, a))) for u, t, tn, a in GRID]
    assert True in reference and False in reference, "the grid must exercise both decisions"
    assert await _ours(tmp_path, "builtin/pdp_cel", policy) == reference


@pytest.mark.parametrize("policy", CEDAR_POLICIES)
async def test_cedar_parity(tmp_path: Path, policy: str) -> None:
    reference = [_cedar_reference(textwrap.dedent(policy), u, t, tn, a) for u, t, tn, a in GRID]
    assert True in reference and False in reference, "the grid must exercise both decisions"
    assert await _ours(tmp_path, "builtin/pdp_cedar", policy) == reference
