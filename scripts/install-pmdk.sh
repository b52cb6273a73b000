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
# Only Debian's packages: never downloads PMDK from anywhere else.

set -u

HEADER=/usr/include/libpmemobj.h
PACKAGE=libpmemobj-dev

soft=0
if [ "${1:-}" = "--if-possible" ]; then
  soft=1
fi

if [ -f "$HEADER" ]; then
  exit 0
fi

fail() {
  if [ "$soft" -eq 1 ]; then
    echo "install-pmdk: warning: $1; the txmap target is not built" >&2
  else
    echo "install-pmdk: $1" >&2
  fi
  if [ -n "${2:-}" ] && [ -s "$2" ]; then
    tail -n 20 "$2" >&2
  fi
  [ "$soft" -eq 1 ] && exit 0
  exit 1
}

if ! command -v apt-get >/dev/null 2>&1; then
  fail "$HEADER is missing and apt-get is not available; install PMDK's libpmemobj development files"
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    fail "$HEADER is missing and installing it needs root (run as root: apt-get install $PACKAGE)"
  fi
fi

log=$(mktemp "${TMPDIR:-/tmp}/install-pmdk.XXXXXX") || fail "cannot create a temporary log file"
trap 'rm -f "$log"' EXIT

export DEBIAN_FRONTEND=noninteractive

# Wait for another apt run (unattended upgrades, the Chromium install) rather than fail.
apt_opts=(-o DPkg::Lock::Timeout=300 -q)

if ! $SUDO apt-get "${apt_opts[@]}" update >"$log" 2>&1; then
  fail "apt-get update failed" "$log"
fi
if ! $SUDO apt-get "${apt_opts[@]}" install -y --no-install-recommends "$PACKAGE" >"$log" 2>&1; then
  fail "apt-get install $PACKAGE failed" "$log"
fi
if [ ! -f "$HEADER" ]; then
  fail "apt-get installed $PACKAGE but $HEADER is still missing" "$log"
fi
exit 0
