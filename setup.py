"""Build the Go core into the Python package with gopy.

`pip install .`, `pip install <sdist>` and `pip wheel .` all come through here: the
`build_py` step runs `go tool gopy build` on the `pybind` Go package with the exact
interpreter that runs the build, and places the extension inside the package as the
private sub-package `cpex._native`. The generated sources are build output, never
committed (DESIGN.md, "Building the extension").
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
import sysconfig

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
GO_PACKAGE = "github.com/cpex-go/cpex/pybind"
# goimports is pinned to the x/tools version go.mod already requires.
GOIMPORTS = "golang.org/x/tools/cmd/goimports@v0.52.0"
EXT_NAME = "native"  # gopy -name; a leading "_" would make Go ignore the generated files
PACKAGE_DIR = os.path.join("cpex", "_native")


def _fail(message: str) -> None:
    sys.stderr.write(f"\ncpex build error: {message}\n\n")
    raise SystemExit(1)


MIN_GO = (1, 26)


def _go() -> str:
    """The go binary, checked to be new enough: the build fails here, before anything
    runs, with a message that names what is missing."""
    go = shutil.which("go")
    if go is None:
        _fail(
            "the Go toolchain (>= 1.26) is required to build cpex from source and `go` is "
            "not on PATH. Install Go from your package manager or https://go.dev/dl/, then "
            "run the install again (or install a prebuilt cpex wheel, which needs no Go)."
        )
    out = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True).stdout.strip()
    m = re.match(r"go(\d+)\.(\d+)", out)
    if m is None or (int(m.group(1)), int(m.group(2))) < MIN_GO:
        _fail(f"cpex needs Go >= 1.26 to build from source; {go} is {out or 'of an unknown version'}.")
    return go  # type: ignore[return-value]


def _check_c_toolchain() -> None:
    """cgo needs a C compiler and the interpreter's development headers."""
    cc = os.environ.get("CC", "").split()
    candidates = cc[:1] if cc else ["gcc", "cc"]
    if not any(shutil.which(c) for c in candidates):
        _fail(
            f"a C compiler is required to build cpex from source (cgo) and `{candidates[0]}` is "
            "not on PATH. Install gcc (Debian/Ubuntu: apt-get install gcc) or set CC."
        )
    include = sysconfig.get_paths()["include"]
    if not os.path.exists(os.path.join(include, "Python.h")):
        _fail(
            f"the development headers of this Python ({sys.executable}) are missing: no "
            f"Python.h in {include}. Install them (Debian/Ubuntu: apt-get install "
            f"python3-dev, or the python{sys.version_info[0]}.{sys.version_info[1]}-dev package)."
        )


def _run(cmd: list[str], env: dict[str, str]) -> None:
    print("+", " ".join(cmd), flush=True)
    proc = subprocess.run(cmd, cwd=HERE, env=env)
    if proc.returncode != 0:
        _fail(f"command failed with exit code {proc.returncode}: {' '.join(cmd)}")


def build_extension(dest: str) -> None:
    """Run gopy and copy the extension files into dest (a `cpex/_native` folder)."""
    go = _go()
    _check_c_toolchain()
    tools_bin = os.path.join(HERE, "build", "tools")
    os.makedirs(tools_bin, exist_ok=True)
    env = dict(os.environ)
    env["GOBIN"] = tools_bin
    env["PATH"] = tools_bin + os.pathsep + os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env.setdefault("CGO_ENABLED", "1")
    # No symbol table or DWARF in the extension (-s implies -w since Go 1.22): they are
    # about half of the .so and nothing needs them at run time (Go's own stack traces use
    # its pclntab, which stays). -trimpath keeps build paths out of the binary. A GOFLAGS
    # set by the caller wins.
    env.setdefault("GOFLAGS", "-ldflags=-s -trimpath")
    if not os.path.exists(os.path.join(tools_bin, "goimports")):
        _run([go, "install", GOIMPORTS], env)
    # A folder whose name starts with "_" is inside the module (gopy builds there with our
    # go.mod) but outside `./...`, so `go vet ./...` and `go test ./...` never see the
    # generated cgo package.
    out = os.path.join(HERE, "build", "_gopy")
    shutil.rmtree(out, ignore_errors=True)
    _run(
        [go, "tool", "gopy", "build", f"-vm={sys.executable}", "-dynamic-link=true",
         f"-name={EXT_NAME}", f"-output={out}", GO_PACKAGE],
        env,
    )
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    so = os.path.join(out, f"_{EXT_NAME}{suffix}")
    if not os.path.exists(so):
        _fail(f"gopy did not produce {so}")
    os.makedirs(dest, exist_ok=True)
    # Extensions for other interpreters stay (make test PYTHON=python3.12 beside the
    # default); the wrappers are the same for every interpreter.
    for stale in glob.glob(os.path.join(dest, f"_native{suffix}")):
        os.remove(stale)
    for name in (os.path.basename(so), "go.py", "pybind.py", "__init__.py"):
        shutil.copy2(os.path.join(out, name), os.path.join(dest, name))


def write_version(package_dir: str) -> None:
    """Write cpex/_version.py from core/VERSION, the version the Go core embeds too."""
    with open(os.path.join(HERE, "core", "VERSION"), encoding="utf-8") as f:
        version = f.read().strip()
    with open(os.path.join(package_dir, "_version.py"), "w", encoding="utf-8") as f:
        f.write(f'"""Written by setup.py from core/VERSION."""\n\n__version__ = "{version}"\n')


class BuildPyWithGo(build_py):
    """build_py that also builds the Go extension into the package."""

    def run(self) -> None:
        super().run()
        write_version(os.path.join(self.build_lib, "cpex"))
        build_extension(os.path.join(self.build_lib, PACKAGE_DIR))


class BinaryDistribution(Distribution):
    """The package carries a CPython extension: wheels are per platform and ABI."""

    def has_ext_modules(self) -> bool:
        return True


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "develop_ext":
        # `python setup.py develop_ext`: build the extension into the source tree
        # (python/cpex/_native) for running tests against the checkout.
        write_version(os.path.join(HERE, "python", "cpex"))
        build_extension(os.path.join(HERE, "python", PACKAGE_DIR))
    else:
        setup(cmdclass={"build_py": BuildPyWithGo}, distclass=BinaryDistribution)
