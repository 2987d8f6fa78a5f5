"""Regenerate the CMF golden files from the models of whichever cpex is importable.

Run it with upstream cpex 0.1.4 to pin our models to upstream's behaviour:

    python3 -m venv /tmp/up && /tmp/up/bin/pip install cpex==0.1.4
    /tmp/up/bin/python scripts/cmf_goldens.py

For every case of tests/py/cmf/cases.json it records either the model_dump(mode="json")
of the validated Message and the to_dict() of each of its views, or the validation errors
(type, loc, msg). tests/py/cmf/test_cmf_compat.py checks our models against
tests/py/cmf/goldens.json; core/cmf reads the same file for the Go round trip.
"""

from __future__ import annotations

import importlib
import json
import pathlib
import sys
from typing import Any

from pydantic import ValidationError

from cpex.framework.cmf.message import Message
from cpex.framework.extensions.extensions import Extensions

ROOT = pathlib.Path(__file__).resolve().parent.parent
CASES = ROOT / "tests/py/cmf/cases.json"
GOLDENS = ROOT / "tests/py/cmf/goldens.json"
NAMES = ROOT / "tests/py/cmf/upstream_names.json"
# The modules whose public names tests/py/cmf/test_cmf_compat.py requires of ours.
MODULES = [
    "cpex.framework.cmf",
    "cpex.framework.cmf.message",
    "cpex.framework.cmf.view",
    "cpex.framework.hooks.message",
    "cpex.framework.pdp",
    "cpex.framework.pdp.base",
    "cpex.framework.pdp.opa",
    "cpex.framework.pdp.authzen",
]


def errors(e: ValidationError) -> list[dict[str, Any]]:
    return [{"type": x["type"], "loc": list(x["loc"]), "msg": x["msg"]} for x in e.errors()]


PATTERNS = ["tool://*/get_user", "tool://**", "file:///data/*", "*://**/summarize", "db://users/42"]


def probe(v: Any) -> dict[str, Any]:
    """The view API beyond to_dict(): predicates, lookups and context accessors."""
    return {
        "flags": [v.is_pre, v.is_post, v.is_tool, v.is_prompt, v.is_resource, v.is_text, v.is_media, v.has_content()],
        "size_bytes": v.size_bytes,
        "mime_type": v.mime_type,
        "args": [v.get_arg("id"), v.get_arg("missing", "dflt"), v.has_arg("id"), v.has_arg("text")],
        "props": [v.get_property("tool_id"), v.get_property("is_error"), v.get_property("nope", 7)],
        "patterns": [v.matches_uri_pattern(p) for p in PATTERNS],
        "context": [
            sorted(v.roles), sorted(v.permissions), sorted(v.teams), sorted(v.labels),
            v.has_role("admin"), v.has_permission("tools.execute"), v.has_label("pii"),
            v.get_header("x-tenant"), v.get_header("AUTHORIZATION"), v.has_header("cookie"), v.get_header("none", "d"),
            v.environment, v.request_id, v.agent_input, v.session_id, v.conversation_id, v.turn, v.agent_id,
            v.parent_agent_id, v.subject.id if v.subject else None,
            v.object.trust_domain if v.object else None, v.data_policy.denied_actions if v.data_policy else None,
        ],
        "opa": v.to_opa_input(include_content=False),
        "bare": v.to_dict(include_content=False, include_context=False),
    }


def run_case(case: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": case["name"], "input": case["input"]}
    try:
        msg = Message.model_validate(case["input"])
    except ValidationError as e:
        out["errors"] = errors(e)
        return out
    except ValueError as e:
        # A content part dict without content_type: the discriminator's ValueError escapes
        # pydantic unwrapped.
        out["raises"] = {"type": type(e).__name__, "msg": str(e)}
        return out
    out["dump"] = msg.model_dump(mode="json")
    out["json"] = json.loads(msg.model_dump_json())
    ext = Extensions.model_validate(case["extensions"]) if "extensions" in case else None
    out["views"] = [v.to_dict() for v in msg.iter_views(hook=case.get("hook"), extensions=ext)]
    out["reprs"] = [repr(v) for v in msg.iter_views(hook=case.get("hook"))]
    out["probes"] = [probe(v) for v in msg.iter_views(hook=case.get("hook"), extensions=ext)]
    return out


def main() -> int:
    cases = json.loads(CASES.read_text())
    result = [run_case(c) for c in cases]
    GOLDENS.write_text(json.dumps(result, indent=1, sort_keys=False) + "\n")
    print(f"wrote {len(result)} cases to {GOLDENS.relative_to(ROOT)}")
    names = {m: sorted(n for n in dir(importlib.import_module(m)) if not n.startswith("_")) for m in MODULES}
    NAMES.write_text(json.dumps(names, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
