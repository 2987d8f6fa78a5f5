#!/usr/bin/env bash
# The rate limiter's Redis backend is tested against a real redis-server that the tests
# start and stop themselves. Install it from Debian's packages when we can (root, apt);
# otherwise those tests skip with a visible reason.
set -u
command -v redis-server >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing redis-server (Debian package) for the rate limiter's Redis tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null) \
    || echo "warning: could not install redis-server; Redis tests will skip"
else
  echo "note: redis-server not found and not root; Redis tests will skip"
fi
exit 0
