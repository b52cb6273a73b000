/*
 * dirty_lines.cc -- DirtyLines: one bit per 64-byte line of a file page
 */
#include "dirty_lines.h"

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
DirtyLines::stored(uint8_t file_id, uint64_t offset, uint64_t length, bool nt)
{
	if (length == 0)
		return;
	auto &pages = nt ? nt_ : stored_;
	const uint64_t end = offset + length;
	for (uint64_t line = offset & ~(LINE_BYTES - 1); line < end; line += LINE_BYTES)
		pages[key(file_id, line)] |= 1ull << ((line % PAGE_BYTES) / LINE_BYTES);
}

bool
DirtyLines::flushed(uint8_t file_id, uint64_t offset)
{
	const uint64_t bit = 1ull << ((offset % PAGE_BYTES) / LINE_BYTES);
	const bool stored = clear_bit(&stored_, key(file_id, offset), bit);
	const bool nt = clear_bit(&nt_, key(file_id, offset), bit);
	return stored || nt || unknown_;
}

bool
DirtyLines::page_clean(uint8_t file_id, uint64_t offset) const
{
	const uint64_t k = key(file_id, offset);
	return !unknown_ && stored_.find(k) == stored_.end() && nt_.find(k) == nt_.end();
}

} /* namespace pmfit */
