/*
 * dirty_lines.h -- the PM lines a flush of the running thread can change a
 * crash state of, by file offset (the fast recorder keeps only their pages
 * inaccessible; docs/recording.md, "The fast recorder")
 *
 * Under every model (docs/models.md) a clflush, clflushopt or clwb of a
 * line that nothing stored since its last flush changes no crash state:
 * flushed copies the line's current content into the durable image, which
 * already holds it; px86 marks its current version pending, which a flush
 * already did or which is its guaranteed version. A store makes a line
 * dirty until a flush of it. A non-temporal store makes it dirty until a
 * flush or the next fence of the thread that stored, which makes the line
 * as the store left it durable (flushed) or guaranteed (px86). A
 * clflushopt or clwb leaves the line dirty for the other threads until a
 * fence of the thread that flushed: px86 guarantees the version only then,
 * and a flush by another thread followed by that thread's fence guarantees
 * it earlier. Lines stay dirty across regions, and writes the recorder does
 * not see itself (the kernel's, recorded by JavaScript from a system call)
 * make every line dirty for the rest of the run.
 *
 * Another thread's fence orders nothing of a thread's (docs/models.md,
 * "Threads"), and the fences a thread runs outside regions are not seen: a
 * thread that ends there leaves its non-temporal stores and its marks here
 * for good. The fast recorder runs only while one thread is left, but the
 * regions of several threads, single-stepped, leave their lines here
 * (tests/record/fast-recorder.test.ts, nt_fence).
 */
#ifndef PMFIT_DIRTY_LINES_H
#define PMFIT_DIRTY_LINES_H

#include <cstdint>
#include <unordered_map>

namespace pmfit {

class DirtyLines {
public:
	/* stored -- [offset, offset + length) of file_id was stored by
	 * thread, with a non-temporal store when nt */
	void stored(uint8_t file_id, uint64_t offset, uint64_t length, bool nt, uint16_t thread);
	/* flushed -- the line at offset (line-aligned) was flushed by thread,
	 * marked: with clflushopt or clwb (guaranteed at its fence, not at
	 * once); whether it was dirty for thread (the flush can change a
	 * crash state) */
	bool flushed(uint8_t file_id, uint64_t offset, bool marked, uint16_t thread);
	/* fenced -- thread ran a fence: its non-temporal stores are durable,
	 * its marked flushes guaranteed */
	void
	fenced(uint16_t thread)
	{
		nt_.erase(thread);
		marked_.erase(thread);
	}
	/* forget -- from now on every line counts as dirty */
	void
	forget()
	{
		unknown_ = true;
	}
	/* page_clean -- no line of the file page at offset (page-aligned) is
	 * dirty for a flush of thread */
	bool page_clean(uint8_t file_id, uint64_t offset, uint16_t thread) const;

private:
	static constexpr uint64_t LINE_BYTES = 64;
	static constexpr uint64_t PAGE_BYTES = 4096;
	static uint64_t
	key(uint8_t file_id, uint64_t offset)
	{
		return ((uint64_t)file_id << 56) | (offset / PAGE_BYTES);
	}

	/* Pages -- per file page, one bit per line (64 of 64 bytes) */
	using Pages = std::unordered_map<uint64_t, uint64_t>;
	/* ByThread -- a thread's Pages; a thread with none set has no entry */
	using ByThread = std::unordered_map<uint16_t, Pages>;

	Pages stored_; /* stored since the line's last flush */
	/* stored non-temporally since the line's last flush and the
	 * thread's last fence */
	ByThread nt_;
	/* flushed with clflushopt or clwb since the thread's last fence,
	 * not flushed since by another thread */
	ByThread marked_;
	bool unknown_ = false;
};

} /* namespace pmfit */

#endif /* PMFIT_DIRTY_LINES_H */
