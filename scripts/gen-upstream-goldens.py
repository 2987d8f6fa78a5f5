#!/usr/bin/env python3
"""Generate the upstream golden files from cpex==0.1.4 (PyPI) in a throwaway venv.

    python3 scripts/gen-upstream-goldens.py [--venv DIR] [--keep]

Builds a venv (default: a temporary directory, removed afterwards unless --keep), installs
cpex==0.1.4 into it, and runs the builders of tests/py/goldens.py there with only
tests/py on the path, so `import cpex` is upstream's. Writes
tests/cases/settings/upstream-0.1.4.json and tests/cases/hooktypes/upstream-0.1.4.json:
data produced by upstream, no upstream code. tests/py/test_goldens.py compares ours with
them.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UPSTREAM = "cpex==0.1.4"

CHILD = """
import sys
import goldens
for path, build in goldens.UPSTREAM.items():
    doc = build()
    doc["source"] = "cpex==0.1.4 from PyPI: " + doc["source"]
    target = goldens.CASES_DIR / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(goldens.render(doc), encoding="utf-8")
    print("wrote", target.relative_to(goldens.CASES_DIR.parent.parent))
import cpex.framework
assert "site-packages" in cpex.framework.__file__, cpex.framework.__file__
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", help="venv directory (reused when it already has upstream)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary venv")
    args = parser.parse_args()
    directory = Path(args.venv) if args.venv else Path(tempfile.mkdtemp(prefix="cpex-upstream-"))
    python = directory / "bin" / "python"
    try:
        if not python.exists():
            venv.create(directory, with_pip=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", UPSTREAM], check=True)
        # Only tests/py on the path, and a neutral working directory: `cpex` is upstream's.
        env = {"PYTHONPATH": str(ROOT / "tests" / "py"), "PATH": "/usr/bin:/bin", "HOME": str(directory)}
        subprocess.run([str(python), "-c", CHILD], check=True, env=env, cwd=directory)
    finally:
        if not args.venv and not args.keep:
            shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
