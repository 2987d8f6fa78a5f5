#!/usr/bin/env bash
# Prints the absolute path of a working interpreter for NAME: python3, python3.12, 3.12 or a
# path. pyenv installs 3.12 and 3.13 on our machines without putting them on PATH (its
# shims answer "command not found" for a version that is not selected), so a minor
# version that does not run from PATH is looked up under $(pyenv root)/versions.
set -u
want=${1:-python3}
case $want in [0-9]*) want=python$want ;; esac
if exe=$("$want" -c 'import sys; print(sys.executable)' 2>/dev/null); then
	echo "$exe"
	exit 0
fi
minor=${want##*python}
root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
if [ -n "$minor" ]; then
	for dir in $(ls -d "$root/versions/$minor".* 2>/dev/null | sort -V -r); do
		if exe=$("$dir/bin/python$minor" -c 'import sys; print(sys.executable)' 2>/dev/null); then
			echo "$exe"
			exit 0
		fi
	done
fi
echo "no Python interpreter for '$1': not runnable from PATH and none under $root/versions (install it, e.g. 'pyenv install $minor')" >&2
exit 1
