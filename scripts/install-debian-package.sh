#!/usr/bin/env bash
# install-debian-package -- make sure a Debian package a test needs is
# installed: `install-debian-package.sh PACKAGE FILE` installs PACKAGE when
# FILE, which the package provides, is missing (chromium /usr/bin/chromium
# for the HTML report's browser test, libxml2-utils /usr/bin/xmllint for the
# JUnit schema test, libpmemobj-dev's header for install-pmdk.sh).
# Idempotent: does nothing when FILE is there. Quiet on success; on
# failure prints what went wrong and the tail of apt's output, and exits
# non-zero.
#
# Only Debian's packages: never downloads builds of its own.

set -u

if [ $# -ne 2 ]; then
  echo "usage: install-debian-package.sh PACKAGE FILE" >&2
  exit 2
fi
PACKAGE=$1
FILE=$2

if [ -e "$FILE" ]; then
  exit 0
fi

fail() {
  echo "install-debian-package: $1" >&2
  if [ -n "${2:-}" ] && [ -s "$2" ]; then
    tail -n 20 "$2" >&2
  fi
  exit 1
}

if ! command -v apt-get >/dev/null 2>&1; then
  fail "$FILE is missing and apt-get is not available; install $PACKAGE so that $FILE exists"
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    fail "$FILE is missing and installing it needs root (run: apt-get install $PACKAGE)"
  fi
fi

log=$(mktemp "${TMPDIR:-/tmp}/install-debian-package.XXXXXX") || fail "cannot create a temporary log file"
trap 'rm -f "$log"' EXIT

export DEBIAN_FRONTEND=noninteractive

# Another apt run (a parallel test worker, unattended upgrades) may hold the
# lock: wait for it rather than fail.
apt_opts=(-o DPkg::Lock::Timeout=300 -q)

if ! $SUDO apt-get "${apt_opts[@]}" update >"$log" 2>&1; then
  fail "apt-get update failed" "$log"
fi
if ! $SUDO apt-get "${apt_opts[@]}" install -y --no-install-recommends "$PACKAGE" >"$log" 2>&1; then
  fail "apt-get install $PACKAGE failed" "$log"
fi
if [ ! -e "$FILE" ]; then
  fail "apt-get installed $PACKAGE but $FILE is still missing" "$log"
fi
exit 0
