"""Our CMF models against upstream cpex 0.1.4's, through goldens.json (made by
scripts/cmf_goldens.py under upstream): the same dumps, the same views, the same
validation errors for every case of cases.json."""

from __future__ import annotations

import importlib
import json
import pathlib
import sys
from typing import Any

import pytest
from pydantic import ValidationError

from cpex.framework.cmf.message import Message
from cpex.framework.extensions.extensions import Extensions

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[3] / "scripts"))
from cmf_goldens import probe

HERE = pathlib.Path(__file__).parent
GOLDENS: list[dict[str, Any]] = json.loads((HERE / "goldens.json").read_text())
CASES = {c["name"]: c for c in json.loads((HERE / "cases.json").read_text())}


def _errors(e: ValidationError) -> list[dict[str, Any]]:
    return [{"type": x["type"], "loc": list(x["loc"]), "msg": x["msg"]} for x in e.errors()]


# Module-level imports and helpers upstream happens to expose; not API.
_INCIDENTAL = {"time", "annotations", "Any", "Iterator", "Mapping", "TYPE_CHECKING", "logger", "logging"}


@pytest.mark.parametrize("module", sorted(json.loads((HERE / "upstream_names.json").read_text())))
def test_every_upstream_name_exists(module: str) -> None:
    every = json.loads((HERE / "upstream_names.json").read_text())
    for m in every:  # the script imported them all before listing (submodules become attributes)
        importlib.import_module(m)
    names, mod = every[module], importlib.import_module(module)
    assert [n for n in names if n not in _INCIDENTAL and not hasattr(mod, n)] == []


def test_goldens_cover_every_case() -> None:
    assert [g["name"] for g in GOLDENS] == list(CASES)


@pytest.mark.parametrize("golden", GOLDENS, ids=[g["name"] for g in GOLDENS])
def test_matches_upstream(golden: dict[str, Any]) -> None:
    case = CASES[golden["name"]]
    if "raises" in golden:
        with pytest.raises(ValueError) as info:
            Message.model_validate(case["input"])
        assert not isinstance(info.value, ValidationError)
        assert str(info.value) == golden["raises"]["msg"]
        return
    if "errors" in golden:
        with pytest.raises(ValidationError) as verr:
            Message.model_validate(case["input"])
        assert _errors(verr.value) == golden["errors"]
        return
    msg = Message.model_validate(case["input"])
    assert msg.model_dump(mode="json") == golden["dump"]
    assert json.loads(msg.model_dump_json()) == golden["json"]
    # The JSON dump validates back to an equal message.
    assert Message.model_validate_json(msg.model_dump_json()) == msg
    ext = Extensions.model_validate(case["extensions"]) if "extensions" in case else None
    views = list(msg.iter_views(hook=case.get("hook"), extensions=ext))
    assert [v.to_dict() for v in views] == golden["views"]
    assert [repr(v) for v in msg.iter_views(hook=case.get("hook"))] == golden["reprs"]
    assert [probe(v) for v in views] == golden["probes"]
