# targets.gypi -- the built-in C targets (included from binding.gyp).
#
# Paths are relative to this file. Every program lands in build/Release/<name>.
# Flags: -g -O2 as a user would ship them (node's common.gypi adds -O3 in
# Release, removed here); -z now resolves every library call at start-up, so
# that no lazy PLT binding (thousands of instructions) runs inside a traced
# region.
#
# txmap and its broken builds need Debian's libpmemobj-dev, which
# scripts/install-pmdk.sh installs before node-gyp runs (npm's install step);
# where it could not, they are left out rather than fail the whole build.
{
  "conditions": [
    ["<!(test -f /usr/include/libpmemobj.h && echo 1 || echo 0) == 1", {
      "targets": [
        {
          "target_name": "txmap",
          "type": "executable",
          "sources": ["txmap/txmap.c"],
          "include_dirs": ["include"],
          "cflags": ["-g", "-O2", "-Wall", "-Wextra"],
          "cflags!": ["-O3"],
          "cflags_c": ["-std=gnu11"],
          "ldflags": ["-Wl,-z,now"],
          "libraries": ["-lpmemobj"]
        },
        {
          "target_name": "txmap_broken_noadd",
          "type": "executable",
          "sources": ["txmap/txmap.c"],
          "defines": ["TXMAP_BROKEN_NOADD"],
          "include_dirs": ["include"],
          "cflags": ["-g", "-O2", "-Wall", "-Wextra"],
          "cflags!": ["-O3"],
          "cflags_c": ["-std=gnu11"],
          "ldflags": ["-Wl,-z,now"],
          "libraries": ["-lpmemobj"]
        },
        {
          "target_name": "txmap_broken_late",
          "type": "executable",
          "sources": ["txmap/txmap.c"],
          "defines": ["TXMAP_BROKEN_LATE"],
          "include_dirs": ["include"],
          "cflags": ["-g", "-O2", "-Wall", "-Wextra"],
          "cflags!": ["-O3"],
          "cflags_c": ["-std=gnu11"],
          "ldflags": ["-Wl,-z,now"],
          "libraries": ["-lpmemobj"]
        }
      ]
    }]
  ],
  "targets": [
    {
      "target_name": "pmfit_libpmem",
      "type": "static_library",
      "sources": ["libpmem/libpmem.c"],
      "include_dirs": ["include", "libpmem"],
      "cflags": ["-g", "-O2", "-Wall", "-Wextra"],
      "cflags!": ["-O3"],
      "cflags_c": ["-std=gnu11"],
      "direct_dependent_settings": {
        "include_dirs": ["include", "libpmem"]
      }
    },
    {
      "target_name": "pmfit_alloc",
      "type": "static_library",
      "sources": ["alloc/alloc.c"],
      "dependencies": ["pmfit_libpmem"],
      "export_dependent_settings": ["pmfit_libpmem"],
      "include_dirs": ["include", "libpmem", "alloc"],
      "cflags": ["-g", "-O2", "-Wall", "-Wextra"],
      "cflags!": ["-O3"],
      "cflags_c": ["-std=gnu11"],
      "direct_dependent_settings": {
        "include_dirs": ["alloc"]
      }
    },
    {
      "target_name": "basic",
      "type": "executable",
      "sources": ["basic/basic.c"],
      "dependencies": ["pmfit_libpmem"],
      "include_dirs": ["include", "libpmem"],
      "cflags": ["-g", "-O2", "-Wall", "-Wextra"],
      "cflags!": ["-O3"],
      "cflags_c": ["-std=gnu11"],
      "ldflags": ["-Wl,-z,now"]
    },
    {
      "target_name": "alloc",
      "type": "executable",
      "sources": ["alloc/main.c"],
      "dependencies": ["pmfit_alloc", "pmfit_libpmem"],
      "include_dirs": ["include", "libpmem", "alloc"],
      "cflags": ["-g", "-O2", "-Wall", "-Wextra"],
      "cflags!": ["-O3"],
      "cflags_c": ["-std=gnu11"],
      "ldflags": ["-Wl,-z,now"]
    },
    {
      "target_name": "tree",
      "type": "executable",
      "sources": ["tree/tree.c"],
      "dependencies": ["pmfit_alloc", "pmfit_libpmem"],
      "include_dirs": ["include", "libpmem", "alloc"],
      "cflags": ["-g", "-O2", "-Wall", "-Wextra"],
      "cflags!": ["-O3"],
      "cflags_c": ["-std=gnu11"],
      "ldflags": ["-Wl,-z,now"]
    },
    {
      "target_name": "tree_mt_broken",
      "type": "executable",
      "sources": ["tree/tree.c"],
      "defines": ["TREE_BROKEN_LEFT"],
      "dependencies": ["pmfit_alloc", "pmfit_libpmem"],
      "include_dirs": ["include", "libpmem", "alloc"],
      "cflags": ["-g", "-O2", "-Wall", "-Wextra"],
      "cflags!": ["-O3"],
      "cflags_c": ["-std=gnu11"],
      "ldflags": ["-Wl,-z,now"]
    },
    {
      "target_name": "tree_broken",
      "type": "executable",
      "sources": ["tree/tree.c"],
      "defines": ["TREE_BROKEN"],
      "dependencies": ["pmfit_alloc", "pmfit_libpmem"],
      "include_dirs": ["include", "libpmem", "alloc"],
      "cflags": ["-g", "-O2", "-Wall", "-Wextra"],
      "cflags!": ["-O3"],
      "cflags_c": ["-std=gnu11"],
      "ldflags": ["-Wl,-z,now"]
    }
  ]
}
