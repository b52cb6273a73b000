/*
 * dirty_lines.h -- the PM lines stored since their last flush, by file
 * offset: where a flush can change a crash state (the fast recorder keeps
 * only their pages inaccessible; docs/recording.md, "The fast recorder")
 *
 * Under every model (docs/models.md) a clflush, clflushopt or clwb of a
 * line that nothing stored since its last flush changes no crash state:
 * flushed copies the line's current content into the durable image, which
 * already holds it; px86 marks its current version pending, which a flush
 * already did or which is its guaranteed version. A store makes a line
 * dirty until a flush of it. A non-temporal store makes it dirty until a
 * flush or the next fence, which makes the line as the store left it
 * durable (flushed) or guaranteed (px86). Lines stay dirty across regions,
 * and writes the recorder does not see itself (the kernel's, recorded by
 * JavaScript from a system call) make every line dirty for the rest of the
 * run.
 */
#ifndef PMFIT_DIRTY_LINES_H
#define PMFIT_DIRTY_LINES_H

#include <cstdint>
#include <unordered_map>

namespace pmfit {

class DirtyLines {
public:
	/* stored -- [offset, offset + length) of file_id was stored, with a
	 * non-temporal store when nt */
	void stored(uint8_t file_id, uint64_t offset, uint64_t length, bool nt);
	/* flushed -- the line at offset (line-aligned) was flushed: whether
	 * it was dirty (the flush can change a crash state) */
	bool flushed(uint8_t file_id, uint64_t offset);
	/* fenced -- a fence ran: non-temporal stores are durable */
	void
	fenced()
	{
		nt_.clear();
	}
	/* forget -- from now on every line counts as dirty */
	void
	forget()
	{
		unknown_ = true;
	}
	/* page_clean -- no line of the file page at offset (page-aligned) is
	 * dirty */
	bool page_clean(uint8_t file_id, uint64_t offset) const;

private:
	static constexpr uint64_t LINE_BYTES = 64;
	static constexpr uint64_t PAGE_BYTES = 4096;
	static uint64_t
	key(uint8_t file_id, uint64_t offset)
	{
		return ((uint64_t)file_id << 56) | (offset / PAGE_BYTES);
	}

	/* per file page, one bit per line (64 of 64 bytes): stored since
	 * the line's last flush; stored non-temporally since then and since
	 * the last fence */
	std::unordered_map<uint64_t, uint64_t> stored_;
	std::unordered_map<uint64_t, uint64_t> nt_;
	bool unknown_ = false;
};

} /* namespace pmfit */

#endif /* PMFIT_DIRTY_LINES_H */
