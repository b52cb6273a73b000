# binding.gyp -- the native tracer addon and the sentinel program beside it
# (native/sentinel_main.cc), and nothing else: this is what `npm install
# pmfit` compiles when no prebuilt binary (prebuilds/) loads.
# The C programs (targets, test fixtures, benchmark programs) are in
# programs.gypi, added by `npm run build:programs`.
{
  "targets": [
    {
      "target_name": "pmfit_tracer",
      "sources": [
        "native/binding.cc",
        "native/breakpoints.cc",
        "native/cpu_pin.cc",
        "native/dirty_lines.cc",
        "native/fast_region.cc",
        "native/fence_hunt.cc",
        "native/fixed_random.cc",
        "native/injected_syscall.cc",
        "native/insn_cache.cc",
        "native/nonzero_units.cc",
        "native/page_cache.cc",
        "native/pm_protection.cc",
        "native/proc_maps.cc",
        "native/recorder.cc",
        "native/registers.cc",
        "native/scatter.cc",
        "native/seccomp_filter.cc",
        "native/sentinel.cc",
        "native/shared_clone.cc",
        "native/spawn.cc",
        "native/stepper.cc",
        "native/store_emulation.cc",
        "native/subreaper.cc",
        "native/task.cc",
        "native/task_stack.cc",
        "native/task_written_pages.cc",
        "native/threads.cc",
        "native/tracee_memory.cc",
        "native/unwinder.cc",
        "native/user_file_guard.cc",
        "native/wait_status.cc",
        "native/written_bytes.cc",
        "native/written_pages.cc",
        "native/xstate.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra"],
      "libraries": ["-ldl"]
    },
    {
      "target_name": "pmfit_sentinel",
      "type": "executable",
      "sources": ["native/sentinel_main.cc"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra"],
      "ldflags": ["-Wl,--as-needed"]
    }
  ]
}
