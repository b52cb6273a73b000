/*
 * nonzero_units.h -- which parts of a file hold data: its ranges outside
 * holes, and the fixed-size units of a part read that hold a non-zero
 * byte. The initial image of a PM file is written into the trace unit by
 * unit, all-zero units left as holes (harness/trace/format.ts,
 * TraceWriter.writeImage).
 *
 * JavaScript compared each 64 KiB unit with a buffer of zeros after reading
 * it (a memcmp reading twice the bytes, a call per unit); here a unit is
 * tested while it lies in the cache after its read, and a range the file
 * system reports as a hole (SEEK_DATA, SEEK_HOLE) is not read at all.
 */
#ifndef PMFIT_NONZERO_UNITS_H
#define PMFIT_NONZERO_UNITS_H

#include <cstddef>
#include <cstdint>
#include <vector>

namespace pmfit {

/* data_ranges -- the ranges [start, end) (flat, ascending, disjoint) of
 * [0, size) of the open file fd that may hold a non-zero byte: every range
 * outside the file's holes, widened to whole `unit`-byte units counted
 * from 0 (the last may end at size) and merged. A file system that cannot
 * tell has no holes. */
std::vector<uint64_t> data_ranges(int fd, uint64_t size, uint64_t unit);

/* nonzero_units -- read bytes [offset, offset + length) of the open file fd
 * into `into` and return the runs [start, end) (flat, counted from offset,
 * adjacent runs merged) of its `unit`-byte units, counted from offset, that
 * hold a non-zero byte; bytes past the file's end count as zeros, and a
 * run ends at the file's end. Throws TaskError */
std::vector<uint64_t> nonzero_units(int fd, uint64_t offset, uint8_t *into, size_t length, size_t unit);

} /* namespace pmfit */

#endif /* PMFIT_NONZERO_UNITS_H */
