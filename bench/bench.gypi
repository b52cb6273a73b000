# bench.gypi -- benchmark programs (bench/step.ts runs them from build/Release).
# Paths are relative to this file.
{
  "targets": [
    {"target_name": "stepbare", "type": "executable", "sources": ["stepbare.c"], "cflags": ["-O2"]},
    {"target_name": "idle_threads", "type": "executable", "sources": ["idle_threads.c"], "include_dirs": ["../tests/fixtures/include", "../targets/include"], "cflags": ["-g", "-O2", "-pthread"], "ldflags": ["-pthread"]},
    {"target_name": "spin", "type": "executable", "sources": ["spin.c"], "cflags": ["-O2", "-fno-pie", "-no-pie"], "ldflags": ["-no-pie"]}
  ]
}
