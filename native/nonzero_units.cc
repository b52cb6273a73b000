/*
 * nonzero_units.cc -- a file's holes found with lseek, its units read and
 * tested for a non-zero byte
 */
#include "nonzero_units.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "error.h"

namespace pmfit {

namespace {

/* add_run -- append [start, end) to ascending runs, merged with the last
 * when they touch or overlap */
void
add_run(std::vector<uint64_t> *runs, uint64_t start, uint64_t end)
{
	if (!runs->empty() && runs->back() >= start) {
		if (end > runs->back())
			runs->back() = end;
		return;
	}
	runs->push_back(start);
	runs->push_back(end);
}

/* all_zero -- whether n bytes at p are zero: words or-ed, looked at every
 * page, so a unit with data (usually in its first page) ends early */
bool
all_zero(const uint8_t *p, size_t n)
{
	constexpr size_t PAGE = 4096;
	uint64_t seen = 0;
	size_t at = 0;
	for (; at + 8 <= n; at += 8) {
		uint64_t word;
		memcpy(&word, p + at, 8);
		seen |= word;
		if ((at + 8) % PAGE == 0 && seen != 0)
			return false;
	}
	for (; at < n; at++)
		seen |= p[at];
	return seen == 0;
}

} /* namespace */

std::vector<uint64_t>
data_ranges(int fd, uint64_t size, uint64_t unit)
{
	PMFIT_ASSERT(unit > 0);
	std::vector<uint64_t> ranges;
	for (uint64_t at = 0; at < size;) {
		off_t data = lseek(fd, (off_t)at, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break; /* only holes follow, or the file ends (it shrank) */
		if (data < 0)
			data = (off_t)at; /* no answer: data */
		if ((uint64_t)data >= size)
			break;
		off_t hole = lseek(fd, data, SEEK_HOLE);
		/* no answer, or the file changed between the two calls: data */
		uint64_t end = hole <= data || (uint64_t)hole > size ? size : (uint64_t)hole;
		uint64_t first = (uint64_t)data / unit * unit;
		uint64_t past = (end + unit - 1) / unit * unit;
		add_run(&ranges, first, past < size ? past : size);
		at = end;
	}
	return ranges;
}

std::vector<uint64_t>
nonzero_units(int fd, uint64_t offset, uint8_t *into, size_t length, size_t unit)
{
	PMFIT_ASSERT(unit > 0);
	size_t got = 0;
	while (got < length) {
		ssize_t read = pread(fd, into + got, length - got, (off_t)(offset + got));
		if (read < 0 && errno == EINTR)
			continue;
		if (read < 0)
			throw TaskError(syserr("read of a PM file", errno));
		if (read == 0)
			break;
		got += (size_t)read;
	}
	/* past `got` the file ends (it shrank since its size was taken): zeros */
	std::vector<uint64_t> runs;
	for (size_t start = 0; start < got; start += unit) {
		size_t end = start + unit < got ? start + unit : got;
		if (!all_zero(into + start, end - start))
			add_run(&runs, start, end);
	}
	return runs;
}

} /* namespace pmfit */
