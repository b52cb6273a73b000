#!/usr/bin/env bash
# install-chromium -- make sure Debian's chromium is at /usr/bin/chromium, for
# the HTML report's browser test (tests/report/browser.test.ts). Idempotent:
# does nothing when it is already there. Quiet on success; on failure prints
# what went wrong and the tail of apt's output, and exits non-zero.
#
# Never downloads a browser build of its own: only Debian's package.

set -u

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
  exit 0
fi

fail() {
  echo "install-chromium: $1" >&2
  if [ -n "${2:-}" ] && [ -s "$2" ]; then
    tail -n 20 "$2" >&2
  fi
  exit 1
}

if ! command -v apt-get >/dev/null 2>&1; then
  fail "$CHROMIUM is missing and apt-get is not available; install Chromium so that $CHROMIUM exists"
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    fail "$CHROMIUM is missing and installing it needs root (run: apt-get install chromium)"
  fi
fi

log=$(mktemp "${TMPDIR:-/tmp}/install-chromium.XXXXXX") || fail "cannot create a temporary log file"
trap 'rm -f "$log"' EXIT

export DEBIAN_FRONTEND=noninteractive

# Another apt run (a parallel test worker, unattended upgrades) may hold the
# lock: wait for it rather than fail.
apt_opts=(-o DPkg::Lock::Timeout=300 -q)

if ! $SUDO apt-get "${apt_opts[@]}" update >"$log" 2>&1; then
  fail "apt-get update failed" "$log"
fi
if ! $SUDO apt-get "${apt_opts[@]}" install -y --no-install-recommends chromium >"$log" 2>&1; then
  fail "apt-get install chromium failed" "$log"
fi
if [ ! -x "$CHROMIUM" ]; then
  fail "apt-get installed chromium but $CHROMIUM is still missing" "$log"
fi
exit 0
