#!/usr/bin/env bash
# install-pmdk -- make sure Debian's libpmemobj-dev (PMDK's libpmemobj, its
# header and libpmem) is installed, for the txmap target (targets/txmap/).
# Idempotent: does nothing when the header is already there.
# `npm run build:programs` runs it before node-gyp builds the targets, in a
# checkout of pmfit only: it is not in the published package, and an end
# user's `npm install pmfit` (which builds the tracer addon alone) never
# installs system packages.
#
# Quiet on success. On failure prints what went wrong (with the tail of apt's
# output) and exits 1; with --if-possible it prints the same as a warning and
# exits 0, so that the build of everything else goes on (the txmap target is
# then left out of the build, and pmfit says so when asked to run it).
#
# The install itself is install-debian-package.sh's (Debian's packages only).

set -u

soft=0
if [ "${1:-}" = "--if-possible" ]; then
  soft=1
fi

if out=$(bash "$(dirname "$0")/install-debian-package.sh" libpmemobj-dev /usr/include/libpmemobj.h 2>&1); then
  exit 0
fi
if [ "$soft" -eq 1 ]; then
  echo "install-pmdk: warning: libpmemobj-dev could not be installed; the txmap target is not built" >&2
  echo "$out" >&2
  exit 0
fi
echo "$out" >&2
exit 1
