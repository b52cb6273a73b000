# programs.gypi -- the C programs of this repository, built beside the addon
# into build/Release/ by `npm run build:programs` (which `npm test`,
# `npm run test:system` and `npm run allcounts` run first): the built-in
# targets, the test fixtures and the benchmark programs. Not part of the
# published package, whose install builds the addon alone (binding.gyp).
{
  "includes": [
    "targets/targets.gypi",
    "tests/fixtures/fixtures.gypi",
    "tests/fixtures/record/record.gypi",
    "tests/fixtures/reliability/reliability.gypi",
    "bench/bench.gypi"
  ]
}
