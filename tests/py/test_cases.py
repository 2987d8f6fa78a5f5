"""The shared rule cases (tests/cases, format in tests/cases/README.md) on the Python host.

Each case runs through the real PluginManager (and so PluginExecutor and the Go core
behind it) with scripted Python plugins (case_plugins.Script); a case marked
`go_builtin: true` runs a second time with Go built-in plugins in the same places.
tests/go/cases_test.go runs the same files on the Go host.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import re
from pathlib import Path
from typing import Any, Optional

import pytest
import yaml
from pydantic import ValidationError

import case_plugins
from cpex.framework import GlobalContext, PluginError, PluginViolationError
from cpex.framework.hooks.policies import HookPayloadPolicy
from cpex.framework.hooks.registry import get_hook_registry
from cpex.framework.manager import PayloadSizeError, PluginManager

CASES_DIR = Path(__file__).resolve().parents[1] / "cases"
DEFAULT_PAYLOAD = {"name": "search", "args": {"q": "x"}}


class Yaml12Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans (true/false only), as Go's yaml.v3 reads the
    same files: `no`, `on`, `off`, `yes` stay strings on both sides."""


Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def read_yaml(path: Path) -> Any:
    return yaml.load(path.read_text(), Loader=Yaml12Loader)  # a SafeLoader


def load_cases() -> list[dict[str, Any]]:
    """Every case of every `*/*.yaml` file that has a `cases:` list."""
    out: list[dict[str, Any]] = []
    for path in sorted(CASES_DIR.glob("*/*.yaml")):
        doc = read_yaml(path) or {}
        for case in doc.get("cases") or []:
            case = dict(case)
            case["file"] = str(path.relative_to(CASES_DIR))
            out.append(normalise(case))
    return out


def normalise(case: dict[str, Any]) -> dict[str, Any]:
    case.setdefault("hook", "tool_pre_invoke")
    if case.get("payload") is None:
        assert case["hook"] == "tool_pre_invoke", f"{case['name']}: payload is required for {case['hook']}"
        case["payload"] = copy.deepcopy(DEFAULT_PAYLOAD)
    for path, (char, count) in (case.get("repeat") or {}).items():
        target = case["payload"]
        keys = path.split(".")
        for key in keys[:-1]:
            target = target.setdefault(key, {})
        target[keys[-1]] = char * count
    case.setdefault("calls", 1)
    for plugin in case["plugins"]:
        plugin.setdefault("hooks", [case["hook"]])
    if "host_differences" in case:
        assert case["host_differences"].get("why"), f"{case['name']}: host_differences needs a why"
    return case


CASES = load_cases()


def expect_for(case: dict[str, Any], host: str) -> dict[str, Any]:
    out = dict(case.get("expect") or {})
    out.update((case.get("host_differences") or {}).get(host) or {})
    return out


CONTEXT_KEYS = {"gstate", "gmeta", "lstate", "echo"}


def go_builtin_entry(plugin: dict[str, Any]) -> dict[str, Any]:
    """The Go built-in standing in for a scripted plugin: noop allows, deny_list blocks, the
    context probe (builtin/test_context, pybind/testkinds.go) writes and echoes state."""
    do = plugin.get("do") or {}
    if set(do) & CONTEXT_KEYS:
        assert set(do) <= CONTEXT_KEYS | {"block"}, f"{plugin['name']}: the context probe does not do {sorted(do)}"
        return {"kind": "builtin/test_context", "config": dict(do)}
    assert set(do) <= {"block", "violation"}, f"{plugin['name']}: no Go built-in does {sorted(do)}"
    if do.get("block"):
        return {"kind": "builtin/deny_list", "config": {"words": ["x"]}}
    return {"kind": "builtin/noop"}


def write_config(case: dict[str, Any], directory: Path, go: bool) -> str:
    plugins = []
    for p in case["plugins"]:
        entry: dict[str, Any] = {"name": p["name"], "hooks": p["hooks"]}
        if go:
            entry.update(go_builtin_entry(p))
        else:
            entry.update(kind="case_plugins.Script", config=p.get("do") or {})
        for key in ("mode", "priority", "on_error", "conditions"):
            if key in p:
                entry[key] = p[key]
        plugins.append(entry)
    path = directory / "plugins.yaml"
    path.write_text(yaml.safe_dump({"plugins": plugins}))
    return str(path)


def global_context(spec: Optional[dict[str, Any]]) -> GlobalContext:
    fields: dict[str, Any] = {"request_id": "req-1"}
    fields.update(copy.deepcopy(spec or {}))
    user = fields.pop("user", None)
    gc = GlobalContext(**fields)
    try:
        gc.user = GlobalContext(request_id="v", user=user).user
    except ValidationError:
        gc.user = user  # a host may assign what the model would reject (a list user)
    return gc


def build_payload(hook: str, data: dict[str, Any]) -> Any:
    cls = get_hook_registry().get_payload_type(hook)
    assert cls is not None, f"hook {hook} has no payload type"
    if getattr(cls, "__pydantic_root_model__", False):
        return cls(copy.deepcopy(data))
    return cls(**copy.deepcopy(data))


def record_outcome(records: Optional[list[Any]]) -> list[dict[str, Any]]:
    out = []
    for r in records or []:
        out.append({
            "plugin": r.plugin_name, "hook": r.hook_name, "mode": getattr(r.mode, "value", r.mode),
            "status": getattr(r.status, "value", r.status), "requested_allow": r.requested_allow,
            "effective_allow": r.effective_allow, "matched": r.matched, "applied": r.applied,
            "payload_modified": r.payload_modified, "extensions_modified": r.extensions_modified,
            "reason": r.reason, "error_code": r.error_code,
        })
    return out


def violation_outcome(v: Any) -> Any:
    if v is None:
        return None
    return {"plugin": v.plugin_name, "code": v.code, "reason": v.reason, "description": v.description}


def error_outcome(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, PluginViolationError):
        return {"class": "PluginViolationError", "message": exc.message}
    if isinstance(exc, PluginError):
        return {"class": "PluginError", "message": exc.error.message, "plugin": exc.error.plugin_name}
    if isinstance(exc, PayloadSizeError):
        return {"class": "PayloadSizeError", "message": str(exc)}
    return {"class": type(exc).__name__, "message": str(exc)}


async def run_case(case: dict[str, Any], directory: Path, go: bool,
                   caplog: Optional[pytest.LogCaptureFixture] = None) -> dict[str, Any]:
    opts = case.get("options") or {}
    kwargs: dict[str, Any] = {}
    if opts.get("timeout"):
        kwargs["timeout"] = opts["timeout"]
    if opts.get("policies"):
        kwargs["hook_policies"] = {h: HookPayloadPolicy(writable_fields=frozenset(f))
                                   for h, f in opts["policies"].items()}
    if opts.get("default_policy"):
        kwargs["default_hook_policy"] = opts["default_policy"]
    manager = PluginManager(write_config(case, directory, go), **kwargs)
    await manager.initialize()
    try:
        for name in opts.get("runtime_disabled") or []:
            manager.executor._runtime_disabled.add(name)
        case_plugins.CALLS.clear()
        gc = global_context(case.get("context"))
        out: dict[str, Any] = {}
        result: Any = None
        table: Any = None
        error: Optional[BaseException] = None
        for _ in range(case["calls"]):
            error = None
            try:
                result, table = await manager.invoke_hook(
                    case["hook"], build_payload(case["hook"], case["payload"]), gc,
                    local_contexts=table if opts.get("carry_table") else None,
                    violations_as_exceptions=bool(opts.get("violations_as_exceptions")))
            except (PluginError, PluginViolationError, PayloadSizeError) as exc:
                error = exc
                continue
            errors = await result.wait_for_background_tasks() if result.background_tasks else []
            out["background_errors"] = len([e for e in errors or [] if e is not None])
        await asyncio.sleep(0)
        if error is not None:
            out["error"] = error_outcome(error)
            if isinstance(error, PluginViolationError):
                out["violation"] = violation_outcome(error.violation)
                if error.executions is not None:
                    out["records"] = record_outcome(error.executions)
        else:
            out.update({
                "continue": result.continue_processing,
                "violation": violation_outcome(result.violation),
                "payload": case_plugins.dump(result.modified_payload),
                "metadata": dict(result.metadata or {}),
                "retry": result.retry_delay_ms,
                "records": record_outcome(result.executions),
                "table": "none" if table is None else ("empty" if not table else "filled"),
            })
            out.setdefault("background_errors", 0)
        calls = list(case_plugins.CALLS)
        out["ran"] = [c[0] for c in calls]
        out["seen"] = {c[0]: c[2] for c in calls}
        out["seen_state"] = {c[0]: c[3] for c in calls}
        out["disabled"] = sorted(manager.executor._runtime_disabled)
        out["state"] = dict(gc.state)
        if caplog is not None:
            out["logs"] = [{"level": r.levelname.lower(), "message": r.getMessage()} for r in caplog.records]
        return out
    finally:
        await manager.shutdown()


def subset(where: str, want: Any, got: Any) -> None:
    if not isinstance(want, dict):
        assert got == want, f"{where}: want {want!r}, got {got!r}"
        return
    assert isinstance(got, dict), f"{where}: want {want!r}, got {got!r}"
    for key, value in want.items():
        assert key in got, f"{where}.{key} missing in {got!r}"
        assert got[key] == value, f"{where}.{key}: want {value!r}, got {got[key]!r}"


def assert_outcome(want: dict[str, Any], got: dict[str, Any], ran_unordered: bool) -> None:
    for key, w in want.items():
        assert key in got, f"expect.{key}: not observed on this host"
        g = got[key]
        if key in ("error", "violation", "payload"):
            subset(key, w, g)
        elif key in ("seen", "seen_state"):
            for plugin, wp in w.items():
                subset(f"{key}.{plugin}", wp, g.get(plugin))
        elif key == "records":
            assert len(g) == len(w), f"records: want {len(w)}, got {g!r}"
            for i, (wr, gr) in enumerate(zip(w, g, strict=True)):
                subset(f"records[{i}]", wr, gr)
        elif key == "logs":
            for line in w:
                assert any(g_["level"] == line["level"] and line["contains"] in g_["message"] for g_ in g), (
                    f"logs: no {line['level']} line containing {line['contains']!r} in {g!r}")
        elif key == "ran":
            assert (sorted(g) if ran_unordered else g) == (sorted(w) if ran_unordered else w), f"ran: {g!r}"
        else:
            assert g == w, f"{key}: want {w!r}, got {g!r}"


def test_the_tables_hold_enough_cases() -> None:
    assert len(CASES) >= 80
    assert len({c["name"] for c in CASES}) == len(CASES), "case names are unique"


@pytest.mark.parametrize("case", CASES, ids=[f"{c['file']}::{c['name']}" for c in CASES])
async def test_rule_case_python_plugins(case: dict[str, Any], tmp_path: Path,
                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="cpex")
    got = await run_case(case, tmp_path, go=False, caplog=caplog)
    assert_outcome(expect_for(case, "python"), got, bool(case.get("ran_unordered")))


GO_CASES = [c for c in CASES if c.get("go_builtin")]

# What a run with Go built-ins can observe of a case: Go plugins leave no call log
# (the order comes from the records) and say their own violation code and reason.
GO_KEYS = ("continue", "payload", "ran", "records", "violation", "state", "metadata")
GO_RECORD_DROP = ("reason", "error_code")


@pytest.mark.parametrize("case", GO_CASES, ids=[f"{c['file']}::{c['name']}" for c in GO_CASES])
async def test_rule_case_go_builtins(case: dict[str, Any], tmp_path: Path) -> None:
    got = await run_case(case, tmp_path, go=True)
    got["ran"] = [r["plugin"] for r in got.get("records", []) if r["mode"] != "fire_and_forget"]
    want = {k: v for k, v in expect_for(case, "python").items() if k in GO_KEYS}
    if want.get("records"):
        want["records"] = [{k: v for k, v in r.items() if k not in GO_RECORD_DROP} for r in want["records"]]
    if want.get("violation"):
        want["violation"] = {"plugin": want["violation"]["plugin"]}
    assert_outcome(want, got, bool(case.get("ran_unordered")))
