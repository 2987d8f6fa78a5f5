#!/usr/bin/env bash
# Test both ends of the pydantic range declared in pyproject.toml.
#
# The Python driver builds models by writing pydantic's private instance slots (see
# tests/py/test_pydantic_slots.py), so the range in pyproject.toml must be one that is
# tested. For the lowest version the range allows and the highest one released inside it,
# this makes a throwaway venv, installs our package with that pydantic (the runtime
# dependencies resolved by pip against it), runs the model and driver fast-path tests and
# times slot writes against model_construct (scripts/pydantic_construct_timing.py).
#
# Usage: scripts/check-pydantic-range.sh [PYTHON]
#   PYTHON  the interpreter our extension was built for (default python3; see
#           scripts/find-python.sh). Without WHEEL, the package is the checkout's
#           python/ with the extension `make build` put there for that interpreter.
# Environment:
#   WHEEL=path/to/cpex-*.whl  install that wheel instead of using the checkout.
#   RANGE_DIR=dir             where the venvs go (default a fresh mktemp -d, removed after).
#   TIMING_ARGS="..."         passed to pydantic_construct_timing.py (default --number 50000).
set -euo pipefail

cd "$(dirname "$0")/.."
python_exe=$(scripts/find-python.sh "${1:-python3}")
[ -n "$python_exe" ] || exit 2

# The requirement as written in [project].dependencies, e.g. "pydantic>=2.7,<2.15".
spec=$("$python_exe" - <<'EOF'
import re, tomllib
deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
print(next(d for d in deps if re.match(r"pydantic\s*[<>=!~]", d)))
EOF
)
lowest=$(sed -n 's/.*>=\s*\([0-9][0-9.]*\).*/\1/p' <<<"$spec")
if [ -z "$lowest" ]; then
	echo "check-pydantic-range: no lower bound in '$spec' (pyproject.toml)" >&2
	exit 2
fi
# Everything else the package needs at run time, with pydantic left out: pip then picks
# versions of them (pydantic-settings above all) that accept the pydantic being tested.
mapfile -t others < <("$python_exe" - <<'EOF'
import re, tomllib
for d in tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]:
    if not re.match(r"pydantic\s*[<>=!~]", d):
        print(d)
EOF
)

if [ -z "${WHEEL:-}" ]; then
	pyver=$("$python_exe" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
	if [ ! -e "python/cpex/_native/.built-py$pyver" ]; then
		echo "check-pydantic-range: no extension built for Python $pyver: run make build (PYTHON=$pyver) or set WHEEL" >&2
		exit 2
	fi
fi

own_dir=
if [ -z "${RANGE_DIR:-}" ]; then
	RANGE_DIR=$(mktemp -d -t cpex-pydantic-range.XXXXXX)
	own_dir=$RANGE_DIR
fi
cleanup() { [ -z "$own_dir" ] || rm -rf "$own_dir"; }
trap cleanup EXIT

tests=(tests/py/test_models.py tests/py/test_driver_fastpaths.py tests/py/test_pydantic_slots.py tests/py/test_fastmodels.py)
summary=()
status=0
for end in lowest highest; do
	if [ "$end" = lowest ]; then want="pydantic==$lowest"; else want="$spec"; fi
	venv="$RANGE_DIR/$end"
	echo "== $end of '$spec': $want ($venv)"
	"$python_exe" -m venv "$venv"
	py="$venv/bin/python"
	"$py" -m pip install -q --upgrade pip
	"$py" -m pip install -q "$want" "${others[@]}" "pytest>=8" "pytest-asyncio>=0.23"
	pkg_path=python
	if [ -n "${WHEEL:-}" ]; then
		# --no-deps: the dependencies above are the ones under test; pip check then proves
		# the wheel's own requirements accept them.
		"$py" -m pip install -q --no-deps "$WHEEL"
		"$py" -m pip check
		pkg_path=
	fi
	got=$("$py" -c 'import pydantic, pydantic_settings; print(pydantic.VERSION, "(pydantic-settings", pydantic_settings.__version__ + ")")')
	echo "   installed: pydantic $got"
	if (PYTHONPATH=$pkg_path "$py" -m pytest -q -p no:cacheprovider "${tests[@]}"); then
		result=passed
	else
		result=FAILED
		status=1
	fi
	timing=$(PYTHONPATH=$pkg_path "$py" scripts/pydantic_construct_timing.py ${TIMING_ARGS:---number 50000}) || {
		result="$result, construction differs"
		status=1
	}
	echo "$timing"
	summary+=("pydantic $got: tests $result")
done

echo
echo "== summary for '$spec'"
printf '%s\n' "${summary[@]}"
exit $status
