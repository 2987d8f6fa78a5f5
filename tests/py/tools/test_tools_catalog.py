"""cpex.tools.catalog: kinds, archive safety, the catalog folder and the GitHub monorepo update."""

from __future__ import annotations

import base64
import io
import json
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from cpex.framework.models import PluginManifest
from cpex.tools import catalog as catalog_mod
from cpex.tools.catalog import (
    KIND_FQN,
    KIND_KNOWN,
    KIND_REJECT,
    PluginCatalog,
    classify_plugin_kind,
    convert_fqn_kind_in_place,
    supported_kinds_message,
)


@pytest.mark.parametrize(
    ("kind", "bucket"),
    [("native", KIND_KNOWN), ("external", KIND_KNOWN), ("isolated_venv", KIND_KNOWN), ("pkg.mod.Plugin", KIND_FQN),
     ("a.B", KIND_FQN), ("isolate_venv", KIND_REJECT), ("pkg.mod.plugin", KIND_REJECT), ("pkg..X", KIND_REJECT),
     ("", KIND_REJECT), (None, KIND_REJECT), ("  ", KIND_REJECT), ("1pkg.X", KIND_REJECT)],
)
def test_classify_plugin_kind(kind: Any, bucket: str) -> None:
    assert classify_plugin_kind(kind) == bucket


def test_convert_fqn_kind() -> None:
    data: dict[str, Any] = {"kind": "pkg.mod.Plugin", "default_config": None}
    assert convert_fqn_kind_in_place(data) is data
    assert data == {"kind": "isolated_venv", "default_config": {"class_name": "pkg.mod.Plugin"}}
    explicit = {"kind": "pkg.mod.Plugin", "default_config": {"class_name": "other.Cls"}}
    assert convert_fqn_kind_in_place(explicit)["default_config"]["class_name"] == "other.Cls"
    known = {"kind": "native", "default_config": {}}
    assert convert_fqn_kind_in_place(dict(known)) == known
    kept = {"kind": "pkg.mod.Plugin"}
    assert convert_fqn_kind_in_place(kept, convert=False) == {"kind": "pkg.mod.Plugin"}
    assert convert_fqn_kind_in_place({"kind": "typo"}, convert=False) == {"kind": "typo"}
    with pytest.raises(ValueError) as exc:
        convert_fqn_kind_in_place({"kind": "typo"})
    assert str(exc.value) == supported_kinds_message()
    assert "isolated_venv" in str(exc.value) and "native" in str(exc.value)


@pytest.fixture
def catalog(cli_env) -> PluginCatalog:
    return PluginCatalog()


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


@pytest.mark.parametrize("evil", ["../escape.txt", "/abs/escape.txt", "a/../../escape.txt"])
def test_zip_with_escaping_member_is_refused_whole(tmp_path: Path, catalog: PluginCatalog, evil: str) -> None:
    archive = _zip(tmp_path / "p-1.0-py3-none-any.whl", {"ok/plugin-manifest.yaml": b"x", evil: b"boom"})
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(RuntimeError, match="Unsafe path in archive"):
        catalog._extract_package_archive(archive, out)
    assert list(out.iterdir()) == []  # nothing extracted, not even the safe member
    assert not (tmp_path / "escape.txt").exists()


def test_tar_with_escaping_member_or_link_is_refused(tmp_path: Path, catalog: PluginCatalog) -> None:
    for name, kind in (("../escape.txt", tarfile.REGTYPE), ("link", tarfile.SYMTYPE)):
        archive = tmp_path / f"p-{kind!r}.tar.gz"
        with tarfile.open(archive, "w:gz") as tf:
            info = tarfile.TarInfo(name)
            info.type = kind
            if kind == tarfile.SYMTYPE:
                info.linkname = "/etc/passwd"
            tf.addfile(info, io.BytesIO(b"") if kind == tarfile.REGTYPE else None)
        out = tmp_path / f"out{kind!r}"
        out.mkdir()
        with pytest.raises(RuntimeError, match="Unsafe path in archive"):
            catalog._extract_package_archive(archive, out)
    assert not (tmp_path / "escape.txt").exists()


def test_archives_extract_and_unknown_formats_fail(tmp_path: Path, catalog: PluginCatalog) -> None:
    _zip(tmp_path / "p.zip", {"p/plugin-manifest.yaml": b"name: p"})
    out = tmp_path / "z"
    out.mkdir()
    catalog._extract_package_archive(tmp_path / "p.zip", out)
    assert (out / "p" / "plugin-manifest.yaml").read_text() == "name: p"
    (tmp_path / "p.rar").write_bytes(b"")
    with pytest.raises(RuntimeError, match="Unsupported package format"):
        catalog._extract_package_archive(tmp_path / "p.rar", out)


def test_requirements_file_cannot_climb_out(tmp_path: Path, catalog: PluginCatalog) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "requirements.txt").write_text("x")
    assert catalog._find_requirements_in_extracted_package(tmp_path, "p", "requirements.txt").name == "requirements.txt"
    for bad in ("../requirements.txt", "/etc/passwd", "a/../../b.txt"):
        with pytest.raises(ValueError, match="Invalid requirements file path"):
            catalog._find_requirements_in_extracted_package(tmp_path / "pkg", "p", bad)
    with pytest.raises(FileNotFoundError):
        catalog._find_requirements_in_extracted_package(tmp_path, "p", "reqs-missing.txt")


def _write_manifest(catalog_dir: Path, name: str, version: str, **extra: Any) -> None:
    folder = catalog_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    data = {"name": name, "kind": "native", "description": "d", "author": "a", "version": version,
            "tags": extra.pop("tags", []), "available_hooks": ["tool_pre_invoke"], "default_config": {}, **extra}
    (folder / f"plugin-manifest-{version}.yaml").write_text(yaml.safe_dump(data))


def test_load_search_find(cli_env, catalog: PluginCatalog) -> None:
    _write_manifest(cli_env.catalog, "pii-filter", "1.0.0", tags=["privacy"])
    _write_manifest(cli_env.catalog, "pii-filter", "1.1.0", tags=["privacy"])
    _write_manifest(cli_env.catalog, "rate-limit", "0.3.0")
    (cli_env.catalog / "broken").mkdir()
    (cli_env.catalog / "broken" / "plugin-manifest.yaml").write_text("name: [unclosed")
    assert sorted((m.name, m.version) for m in catalog.search("PII") or []) == [
        ("pii-filter", "1.0.0"), ("pii-filter", "1.1.0")]
    assert [m.name for m in catalog.search("privacy") or []] == ["pii-filter", "pii-filter"]
    assert len(catalog.search(None) or []) == 3  # the broken manifest is skipped
    assert catalog.search("nothing") is None
    assert catalog.find("RATE-LIMIT").version == "0.3.0"
    assert catalog.find("rate") is None


def test_version_registry_keeps_every_version_and_the_latest(cli_env, catalog: PluginCatalog) -> None:
    def manifest(v: str) -> PluginManifest:
        return PluginManifest(name="p", kind="native", description="d", author="a", version=v, tags=[],
                              available_hooks=[], default_config={})

    for v in ("1.2.0", "1.10.0", "1.2.0", "not-a-version"):
        catalog.update_plugin_version_registry(manifest(v), Path("x"))
    data = json.loads((cli_env.catalog / "p" / "versions.json").read_text())
    assert [v["version"] for v in data["versions"]] == ["1.2.0", "1.10.0", "not-a-version"]
    assert data["latest"]["version"] == "1.10.0"


def test_git_sources_are_parsed_and_validated() -> None:
    parse = PluginCatalog._parse_git_source
    assert parse("p @ git+https://github.com/o/p@v1.2") == ("p", "git+https://github.com/o/p@v1.2",
                                                           "https://github.com/o/p", "v1.2")
    assert parse("p @ git+https://github.com/o/p")[3] is None
    assert parse("p @ git+git://127.0.0.1:9418/o/p@main")[2:] == ("git://127.0.0.1:9418/o/p", "main")
    assert parse("p @ git+git@github.com:o/p.git")[2:] == ("git@github.com:o/p.git", None)
    with pytest.raises(ValueError, match="Expected format"):
        parse("git+https://github.com/o/p")
    with pytest.raises(ValueError, match="must start with 'git\\+'"):
        parse("p @ https://github.com/o/p")
    with pytest.raises(ValueError, match="Invalid Git repository URL"):
        parse("p @ git+ftp://host/p")


# ------------------------------------------------------------------ GitHub monorepo update


def _gh_file(server_url: str, repo: str, path: str) -> dict[str, Any]:
    name = path.rsplit("/", 1)[-1]
    return {"name": name, "path": path, "sha": "0" * 40, "url": f"{server_url}/repos/{repo}/contents/{path}",
            "git_url": f"{server_url}/repos/{repo}/git/blobs/{'0' * 40}",
            "html_url": f"https://github.com/{repo}/blob/main/{path}",
            "repository": {"full_name": repo, "name": repo.split("/")[1], "url": f"{server_url}/repos/{repo}"}}


def fake_github(server: Any, repo: str, files: dict[str, str]) -> None:
    """Serve the REST calls the catalog update makes: repo, code search, contents."""
    server.routes[f"/repos/{repo}"] = (200, {"full_name": repo, "name": repo.split("/")[1],
                                             "url": f"{server.url}/repos/{repo}"})

    def search(raw_path: str) -> dict[str, Any]:
        from urllib.parse import parse_qs, urlparse

        q = parse_qs(urlparse(raw_path).query)["q"][0]
        if "filename:pyproject" in q:
            hits = [p for p in files if p.endswith("pyproject.toml")]
        else:
            scope = next((t[5:] for t in q.split() if t.startswith("path:")), "")
            ext = ".json" if "extension:json" in q else ".yaml"
            hits = [p for p in files if p.startswith(scope + "/") and p.endswith(ext)]
        items = [_gh_file(server.url, repo, p) for p in hits]
        return {"total_count": len(items), "incomplete_results": False, "items": items}

    server.routes["/search/code"] = (200, search)
    for path, text in files.items():
        body = {**_gh_file(server.url, repo, path), "type": "file", "encoding": "base64",
                "content": base64.b64encode(text.encode()).decode(), "size": len(text)}
        server.routes[f"/repos/{repo}/contents/{path}"] = (200, body)


MONO_FILES = {
    "plugins/pii/pyproject.toml": '[project]\nname = "cpex-pii"\nversion = "0.2.0"\n',
    "plugins/pii/plugin-manifest.yaml": yaml.safe_dump({
        "kind": "cpex_pii.plugin.PII", "description": "pii", "author": "a", "version": "0.2.0",
        "available_hooks": ["tool_pre_invoke"], "default_configs": {"mask": True}}),
    "plugins/pii/versions.json": json.dumps({"versions": [
        {"version": "0.2.0", "released": "2026-01-01", "manifest_file": "plugin-manifest.yaml"}]}),
    "plugins/pii/README.yaml": "not: a manifest",
    "plugins/typo/pyproject.toml": '[project]\nname = "cpex-typo"\nversion = "1.0.0"\n',
    "plugins/typo/plugin-manifest.yaml": yaml.safe_dump({
        "kind": "isolate_venv", "description": "t", "author": "a", "version": "1.0.0", "available_hooks": [],
        "default_config": {}}),
}


def test_update_catalog_from_a_github_monorepo(cli_env, json_server, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_github(json_server, "org/mono", MONO_FILES)
    monkeypatch.setenv("PLUGINS_GITHUB_TOKEN", "t0ken")
    monkeypatch.setenv("PLUGINS_GITHUB_API", json_server.url)
    monkeypatch.setenv("PLUGINS_REPO_URLS", "https://github.com/org/mono")
    catalog = PluginCatalog()
    assert catalog.update_catalog_with_pyproject() is False
    pii = yaml.safe_load((cli_env.catalog / "cpex-pii" / "plugin-manifest.yaml").read_text())
    assert pii["name"] == "cpex-pii"
    assert pii["kind"] == "isolated_venv" and pii["default_config"] == {"mask": True, "class_name": "cpex_pii.plugin.PII"}
    assert pii["monorepo"] == {"package_source": "https://github.com/org/mono#subdirectory=plugins/pii",
                               "repo_url": "https://github.com/org/mono", "package_folder": "plugins/pii"}
    assert json.loads((cli_env.catalog / "cpex-pii" / "versions.json").read_text())["versions"][0]["version"] == "0.2.0"
    assert not (cli_env.catalog / "cpex-pii" / "README.yaml").exists()
    typo = yaml.safe_load((cli_env.catalog / "cpex-typo" / "plugin-manifest.yaml").read_text())
    assert typo["kind"] == "isolate_venv"  # kept (and listed); installing it is what fails
    assert {m.name for m in catalog.search(None) or []} == {"cpex-pii", "cpex-typo"}


def test_update_catalog_without_token_fails_softly(cli_env) -> None:
    assert PluginCatalog().update_catalog_with_pyproject() is True
    assert not cli_env.catalog.exists()


def test_update_catalog_survives_an_unreachable_repository(cli_env, json_server, monkeypatch) -> None:
    monkeypatch.setenv("PLUGINS_GITHUB_TOKEN", "t")
    monkeypatch.setenv("PLUGINS_GITHUB_API", json_server.url)
    monkeypatch.setenv("PLUGINS_REPO_URLS", "https://github.com/org/missing")
    catalog = PluginCatalog()
    catalog.gh.get_repo = lambda *a, **k: (_ for _ in ()).throw(RuntimeError("404"))  # type: ignore[method-assign]
    assert catalog.update_catalog_with_pyproject() is False
    assert catalog.search(None) is None


def test_github_base_url() -> None:
    assert catalog_mod._github_base_url("api.github.com") == "https://api.github.com"
    assert catalog_mod._github_base_url("http://127.0.0.1:81/") == "http://127.0.0.1:81"
    assert catalog_mod._github_base_url(None) == "https://api.github.com"


def test_zip_extraction_never_writes_outside_the_target(tmp_path: Path, catalog: PluginCatalog) -> None:
    # A seeded random search over member names built from path pieces an attacker would use.
    import random

    rng = random.Random(1234)
    pieces = ["..", ".", "a", "b", "", "/", "\\", "..\\..", "~", "c:", "%2e%2e", "a/../..", "x" * 3]
    outside_before = sorted(p.name for p in tmp_path.iterdir())
    for i in range(300):
        name = "/".join(rng.choice(pieces) for _ in range(rng.randint(1, 5))) + f"f{i}"
        archive = _zip(tmp_path / f"fz{i}.zip", {name: b"x", "safe/ok.txt": b"ok"})
        out = tmp_path / "fuzz-out" / str(i)
        out.mkdir(parents=True)
        try:
            catalog._extract_package_archive(archive, out)
        except RuntimeError as exc:
            assert "Unsafe path in archive" in str(exc)
            assert list(out.iterdir()) == []
        else:
            base = out.resolve()
            assert all(p.resolve().is_relative_to(base) for p in out.rglob("*"))
        archive.unlink()
    after = sorted(p.name for p in tmp_path.iterdir())
    assert after == sorted([*outside_before, "fuzz-out"])
