"""Packaging: the sdist carries what the build needs and nothing generated, installs from a
fresh virtualenv outside the repository and runs without Go; a build that lacks Go or a C
compiler stops at once and says which."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GO = shutil.which("go")
# The Go packages the extension is built from (pybind and what it imports).
GO_BUILD_DIRS = ("core/", "pybind/", "internal/")


@pytest.fixture(scope="module")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sdist")
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir", str(out), str(REPO)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (path,) = out.glob("cpex-*.tar.gz")
    return path


def _members(sdist: Path) -> set[str]:
    with tarfile.open(sdist) as tf:
        return {m.name.split("/", 1)[1] for m in tf.getmembers() if "/" in m.name and m.isfile()}


def test_sdist_is_versioned_from_core_version(sdist: Path) -> None:
    release = (REPO / "core" / "VERSION").read_text().strip()
    assert sdist.name == f"cpex-{release}.tar.gz"


def test_sdist_has_the_build_inputs(sdist: Path) -> None:
    files = _members(sdist)
    for needed in ("go.mod", "go.sum", "setup.py", "pyproject.toml", "core/VERSION", "core/engine/run.go",
                   "pybind/exec.go", "python/cpex/__init__.py", "python/cpex/py.typed",
                   "python/cpex/framework/manager.py"):
        assert needed in files, needed
    # The bootstrap templates' Go files are package data, not build inputs.
    go_sources = {f for f in files if f.endswith(".go") and f.startswith(GO_BUILD_DIRS)}
    tracked = subprocess.run(["git", "ls-files", *GO_BUILD_DIRS], cwd=REPO, capture_output=True, text=True).stdout.split()
    wanted = {f for f in tracked if f.endswith(".go") and not f.endswith("_test.go")}
    if wanted:  # a git checkout: every non-test Go source the build reads is in
        assert go_sources == wanted


def test_sdist_has_nothing_generated(sdist: Path) -> None:
    files = _members(sdist)
    generated = [f for f in files if "/_native/" in f or f.endswith(("_version.py", ".so", "_test.go")) or f.startswith(("build/", "tests/", "bench/"))]
    # The go bootstrap template ships its test on purpose (cpex bootstrap -t go generates it).
    generated = [f for f in generated if not f.startswith("python/cpex/templates/")]
    assert generated == []


def test_sdist_has_the_bootstrap_templates(sdist: Path) -> None:
    files = _members(sdist)
    shipped = {f for f in files if f.startswith("python/cpex/templates/")}
    on_disk = {p.relative_to(REPO).as_posix() for p in (REPO / "python" / "cpex" / "templates").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    assert shipped == on_disk
    assert "python/cpex/templates/go/{{cookiecutter.plugin_slug}}/plugin_test.go" in shipped


@pytest.mark.skipif(GO is None, reason="building the sdist needs the Go toolchain")
def test_sdist_installs_outside_the_repo_and_runs_without_go(sdist: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(sdist)],
        cwd=tmp_path, capture_output=True, text=True, timeout=900,
    )
    assert pip.returncode == 0, pip.stdout[-3000:] + pip.stderr[-3000:]
    smoke = subprocess.run(
        [str(venv / "bin" / "python"), str(REPO / "scripts" / "wheel_smoke.py")],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={"HOME": os.environ.get("HOME", "/root"), "PATH": f"{venv / 'bin'}:/usr/bin:/bin"},
    )
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr
    assert "smoke test passed" in smoke.stdout


def _setup_py(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "setup.py"), "develop_ext"],
        cwd=REPO, capture_output=True, text=True, timeout=60, env=env,
    )


def test_build_without_go_stops_at_once_and_says_so() -> None:
    proc = _setup_py({"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root")})
    assert proc.returncode == 1
    assert "Go toolchain (>= 1.26)" in proc.stderr and "`go` is not on PATH" in proc.stderr


@pytest.mark.skipif(GO is None, reason="needs go on PATH to get past the Go check")
def test_build_without_a_c_compiler_stops_at_once_and_says_so() -> None:
    env = dict(os.environ, CC="/nonexistent/cc-for-test")
    proc = _setup_py(env)
    assert proc.returncode == 1
    assert "a C compiler is required" in proc.stderr and "/nonexistent/cc-for-test" in proc.stderr
