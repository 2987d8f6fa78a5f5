"""Write hooks_golden.json from hooks_cases.json.

Run from the repository root:  PYTHONPATH=python .venv/bin/python tests/go/testdata/gen_hooks_golden.py

With the Python models importable (``import cpex.framework``) every input is
validated by the payload model of its hook and the golden records
``model_dump(mode="json")`` or the fact that validation failed. ``--from-spec``
instead derives the dumps from the field table of spec §16 below (used before
the models existed); the file records which source produced it.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

# Spec §16.1-§16.5: field -> (kind, default). kind: "str" required string, "any"
# required Any, "list" required list, "headers" required str->str object, or "opt"
# optional with the given default.
REQ = object()
SPEC: dict[str, list[tuple[str, str, Any]]] = {
    "tool_pre_invoke": [("name", "str", REQ), ("args", "dict", {}), ("headers", "strdict?", None)],
    "tool_post_invoke": [("name", "str", REQ), ("result", "any", REQ)],
    "prompt_pre_fetch": [("prompt_id", "str", REQ), ("args", "strdict", {})],
    "prompt_post_fetch": [("prompt_id", "str", REQ), ("result", "any", REQ)],
    "resource_pre_fetch": [("uri", "str", REQ), ("metadata", "dict", {})],
    "resource_post_fetch": [("uri", "str", REQ), ("content", "any", REQ)],
    "agent_pre_invoke": [
        ("agent_id", "str", REQ), ("messages", "list", REQ), ("tools", "strlist?", None),
        ("headers", "strdict?", None), ("model", "str?", None), ("system_prompt", "str?", None),
        ("parameters", "dict", {}),
    ],
    "agent_post_invoke": [("agent_id", "str", REQ), ("messages", "list", REQ), ("tool_calls", "list?", None)],
    "http_pre_request": [
        ("path", "str", REQ), ("method", "str", REQ), ("client_host", "str?", None),
        ("client_port", "int?", None), ("headers", "strdict", REQ),
    ],
    "http_post_request": [
        ("path", "str", REQ), ("method", "str", REQ), ("client_host", "str?", None),
        ("client_port", "int?", None), ("headers", "strdict", REQ),
        ("response_headers", "strdict?", None), ("status_code", "int?", None),
    ],
    "http_auth_resolve_user": [
        ("credentials", "dict?", None), ("headers", "strdict", REQ),
        ("client_host", "str?", None), ("client_port", "int?", None),
    ],
    "http_auth_check_permission": [
        ("user_email", "str", REQ), ("permission", "str", REQ), ("resource_type", "str?", None),
        ("team_id", "str?", None), ("is_admin", "bool", False), ("auth_method", "str?", None),
        ("client_host", "str?", None), ("user_agent", "str?", None),
    ],
}


def _ok(kind: str, value: Any) -> bool:
    base = kind.rstrip("?")
    if value is None:
        return kind.endswith("?") or base == "any"
    return {
        "str": lambda v: isinstance(v, str),
        "any": lambda v: True,
        "list": lambda v: isinstance(v, list),
        "strlist": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
        "dict": lambda v: isinstance(v, dict),
        "strdict": lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()),
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "bool": lambda v: isinstance(v, bool),
    }[base](value)


def dump_from_spec(hook: str, data: Any) -> Any:
    if not isinstance(data, dict):
        raise ValueError("not an object")
    out = {}
    for name, kind, default in SPEC[hook]:
        if name not in data:
            if default is REQ:
                raise ValueError(f"{name} missing")
            out[name] = json.loads(json.dumps(default))
            continue
        value = data[name]
        # Optional[dict] fields with a {} default accept None (args, metadata, parameters).
        if value is None and kind == "dict" and default == {}:
            out[name] = None
            continue
        if value is None and kind == "strdict" and default == {}:
            out[name] = None
            continue
        if not _ok(kind, value):
            raise ValueError(f"{name} invalid")
        out[name] = value
    return out


def dump_from_models(hook: str, data: Any) -> Any:
    from cpex.framework.hooks.registry import get_hook_registry

    payload_cls = get_hook_registry().get_payload_type(hook)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return payload_cls.model_validate(data).model_dump(mode="json")


def main() -> int:
    from_spec = "--from-spec" in sys.argv
    if from_spec:
        dump, source = dump_from_spec, "spec §16 field table (gen_hooks_golden.py --from-spec)"
    else:
        import cpex.framework  # noqa: F401  (registers the 12 built-in hooks)

        dump, source = dump_from_models, "cpex.framework models, model_dump(mode='json')"
    cases = json.loads((HERE / "hooks_cases.json").read_text(encoding="utf-8"))["cases"]
    golden = []
    for case in cases:
        entry = dict(case)
        try:
            entry["dump"] = dump(case["hook"], case["input"])
        except Exception:  # a validation failure is the expected outcome of invalid cases
            entry["error"] = True
        golden.append(entry)
    text = json.dumps({"source": source, "cases": golden}, ensure_ascii=False, indent=1)
    (HERE / "hooks_golden.json").write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
