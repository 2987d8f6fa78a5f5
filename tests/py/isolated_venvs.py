"""Helpers for tests that build real plugin venvs quickly and offline.

A venv that must import *this checkout's* cpex gets it from a tiny local wheel whose
only content is a .pth file naming the checkout's python/ directory and the test
interpreter's site-packages (pydantic, orjson, ...): pip installs it with --no-index,
in a second, without building anything.
"""

from __future__ import annotations

import site
import sys
import zipfile
from pathlib import Path

CHECKOUT_PYTHON = Path(__file__).resolve().parents[2] / "python"
PLUGIN_SRC = Path(__file__).resolve().parent / "isolated" / "myiso"


def shim_wheel(dest: Path) -> Path:
    """A wheel that puts this checkout's cpex and the test venv's packages on sys.path."""
    name, version = "cpex_checkout_shim", "0.0.1"
    wheel = dest / f"{name}-{version}-py3-none-any.whl"
    paths = [str(CHECKOUT_PYTHON), *site.getsitepackages()]
    info = f"{name}-{version}.dist-info"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr(f"{name}.pth", "\n".join(paths) + "\n")
        z.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name.replace('_', '-')}\nVersion: {version}\n")
        z.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: cpex-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(f"{info}/RECORD", f"{name}.pth,,\n{info}/METADATA,,\n{info}/WHEEL,,\n{info}/RECORD,,\n")
    return wheel


def plugin_tree(root: Path) -> Path:
    """Copies the test plugin package under root (a plugin_dirs entry)."""
    pkg = root / "myiso"
    pkg.mkdir(parents=True, exist_ok=True)
    for src in PLUGIN_SRC.glob("*.py"):
        (pkg / src.name).write_text(src.read_text())
    return pkg


def interpreter() -> str:
    return sys.executable
