/*
 * dirty_lines.cc -- DirtyLines: one bit per 64-byte line of a file page,
 * per thread where a thread's fence settles it
 */
#include "dirty_lines.h"

#include <iterator>

namespace pmfit {

namespace {

/* clear_bit -- whether it was set */
bool
clear_bit(std::unordered_map<uint64_t, uint64_t> *pages, uint64_t key, uint64_t bit)
{
	auto it = pages->find(key);
	if (it == pages->end() || !(it->second & bit))
		return false;
	it->second &= ~bit;
	if (it->second == 0)
		pages->erase(it);
	return true;
}

} /* namespace */

void
DirtyLines::stored(uint8_t file_id, uint64_t offset, uint64_t length, bool nt, uint16_t thread)
{
	if (length == 0)
		return;
	Pages &pages = nt ? nt_[thread] : stored_;
	const uint64_t end = offset + length;
	for (uint64_t line = offset & ~(LINE_BYTES - 1); line < end; line += LINE_BYTES)
		pages[key(file_id, line)] |= 1ull << ((line % PAGE_BYTES) / LINE_BYTES);
}

bool
DirtyLines::flushed(uint8_t file_id, uint64_t offset, bool marked, uint16_t thread)
{
	const uint64_t k = key(file_id, offset);
	const uint64_t bit = 1ull << ((offset % PAGE_BYTES) / LINE_BYTES);
	bool dirty = clear_bit(&stored_, k, bit) || unknown_;
	/* the line written back holds every thread's stores */
	for (auto it = nt_.begin(); it != nt_.end();) {
		dirty = clear_bit(&it->second, k, bit) || dirty;
		it = it->second.empty() ? nt_.erase(it) : std::next(it);
	}
	/* another thread's mark: its version is not guaranteed yet, this
	 * flush's is from this thread's next fence on (or at once); the
	 * thread's own mark is the version this flush marks again */
	for (auto it = marked_.begin(); it != marked_.end();) {
		const bool other = clear_bit(&it->second, k, bit) && it->first != thread;
		dirty = other || dirty;
		it = it->second.empty() ? marked_.erase(it) : std::next(it);
	}
	if (marked)
		marked_[thread][k] |= bit;
	return dirty;
}

bool
DirtyLines::page_clean(uint8_t file_id, uint64_t offset, uint16_t thread) const
{
	const uint64_t k = key(file_id, offset);
	if (unknown_ || stored_.count(k) != 0)
		return false;
	for (const auto &entry : nt_) {
		if (entry.second.count(k) != 0)
			return false;
	}
	for (const auto &entry : marked_) {
		if (entry.first != thread && entry.second.count(k) != 0)
			return false;
	}
	return true;
}

} /* namespace pmfit */
