#!/usr/bin/env bash
# prebuild -- the prebuilt tracer addon shipped in the package:
# prebuilds/linux-x64/*.node, made with prebuildify (Node-API, so one binary
# serves every Node.js version the package supports) and loaded by
# node-gyp-build, and the sentinel program built with it
# (prebuilds/linux-x64/pmfit_sentinel, found beside the addon); where it does not load (another architecture, an older
# glibc than the one it was built against), `npm install` compiles the addon
# from native/ instead. npm runs this before packing (prepack).
#
# Builds in a scratch copy of binding.gyp and native/, so that the
# checkout's build/ (the addon and every C program the tests use) is left
# alone: prebuildify runs `node-gyp rebuild`, which would empty it.

set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/pmfit-prebuild.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT

cp "$root/package.json" "$root/binding.gyp" "$scratch/"
cp -r "$root/native" "$scratch/native"
# node-addon-api's headers, found through require() from the build directory.
ln -s "$root/node_modules" "$scratch/node_modules"

# Headers of the running Node.js when it ships them (Debian's nodejs does,
# under /usr/include/node): no download. Node-API is the same in every
# version, so the running one is the build target.
prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
if [ -z "${npm_config_nodedir:-}" ] && [ -f "$prefix/include/node/node_api.h" ]; then
  export npm_config_nodedir="$prefix"
fi
# node-gyp: npm puts its own on PATH for package scripts.
if ! command -v node-gyp >/dev/null 2>&1; then
  echo "prebuild: node-gyp is not on PATH; run this as npm run build:prebuilds" >&2
  exit 1
fi

rm -rf "$root/prebuilds"
"$root/node_modules/.bin/prebuildify" --napi --strip --target "node@$(node -p process.versions.node)" --cache "$scratch/cache" \
  --cwd "$scratch" --out "$root" >"$scratch/log" 2>&1 || {
  tail -n 30 "$scratch/log" >&2
  echo "prebuild: prebuildify failed" >&2
  exit 1
}
# prebuildify ships the addon alone; the sentinel program of the same build
# goes beside it (harness/tracer/native.ts, sentinelProgram).
install -m 755 "$scratch/build/Release/pmfit_sentinel" "$root/prebuilds/linux-x64/pmfit_sentinel"
strip "$root/prebuilds/linux-x64/pmfit_sentinel"
