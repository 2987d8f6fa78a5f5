"""Decision parity: builtin/pdp_cel, builtin/pdp_cedar and builtin/pdp_rego against
independent reference implementations of the same languages, on a grid of requests. The
references run in this process: cedarpy (Python bindings of the Rust Cedar authorizer),
common-expression-language (Python bindings of a Rust CEL interpreter) and
gordon-to-regorus (Python bindings of regorus, a Rust Rego interpreter independent of OPA,
which our engine uses); all are test requirements (requirements-dev.txt). Our side runs
through the whole stack: YAML, the manager, the Go core."""

from __future__ import annotations

import itertools
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from cpex.framework import GlobalContext, TenantPluginManager, ToolPreInvokePayload

cedarpy = pytest.importorskip("cedarpy")
cel = pytest.importorskip("cel")
regorus = pytest.importorskip("regorus")

USERS: list[Any] = [
    {"id": "alice", "roles": ["admin"]},
    {"id": "dan", "roles": ["admin", "intern"], "limit": 1000},
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


REGO_POLICIES = [
    # RBAC by role and tenant: the package's document decides (allow, default false).
    (Path(__file__).resolve().parents[2] / "cases" / "pdp" / "rbac.rego").read_text(),
    # Deny reasons as a set: the first in sorted order is the violation's reason.
    """
    package cpex.limits

    default allow := true

    deny contains msg if {
      input.payload.args.amount > input.user.limit
      msg := sprintf("amount %v over limit %v", [input.payload.args.amount, input.user.limit])
    }

    deny contains "interns cannot touch production" if {
      "intern" in input.user.roles
      input.payload.args.env == "prod"
    }

    deny contains "anonymous callers are read-only" if {
      input.user == null
      not startswith(input.payload.name, "read_")
    }
    """,
    # An explicit reason, comprehensions and string functions.
    """
    package cpex.misc

    interns := [r | some r in input.user.roles; r == "intern"]

    allow if {
      not endswith(input.payload.name, "_db")
      count(interns) == 0
    }

    allow if {
      is_string(input.user)
      input.server_id == "srv"
    }

    reason := concat(" ", ["no", input.payload.name, "for", input.tenant_id]) if not allow
    """,
]


def _rego_reference(policy: str, doc: dict[str, Any]) -> tuple[bool, str | None]:
    # The decision rule of docs/pdp-rego.md, applied to the reference interpreter's value
    # of the module's package document.
    engine = regorus.Engine()
    engine.add_policy("policy.rego", policy)
    engine.set_input_json(json.dumps(doc))
    package = next(line.split()[1] for line in policy.splitlines() if line.startswith("package "))
    results = json.loads(engine.eval_query_as_json(f"data.{package}"))["result"]
    value = results[0]["expressions"][0]["value"] if results else None
    if isinstance(value, bool):
        return value, None if value else "Denied by policy"
    if not isinstance(value, dict):
        return False, "Denied by policy"
    deny = sorted(str(r) for r in value.get("deny", []))
    if value.get("allow") is True and not deny:
        return True, None
    reason = value.get("reason")
    return False, reason if isinstance(reason, str) else (deny[0] if deny else "Denied by policy")


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
    return [allowed for allowed, _ in await _ours_with_reasons(tmp_path, kind, policy)]


async def _ours_with_reasons(tmp_path: Path, kind: str, policy: str) -> list[tuple[bool, str | None]]:
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
        out.append((result.continue_processing, result.violation.reason if result.violation else None))
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


@pytest.mark.parametrize("policy", REGO_POLICIES)
async def test_rego_parity(tmp_path: Path, policy: str) -> None:
    source = textwrap.dedent(policy)
    reference = [_rego_reference(source, _input(u, t, tn, a)) for u, t, tn, a in GRID]
    decisions = [allowed for allowed, _ in reference]
    assert True in decisions and False in decisions, "the grid must exercise both decisions"
    assert await _ours_with_reasons(tmp_path, "builtin/pdp_rego", source) == reference
