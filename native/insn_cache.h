/*
 * insn_cache.h -- instruction info by address, an open-addressing hash
 *
 * The stepping loops look an instruction up at every step, so no node
 * allocation and one probe in the common case; find() is inline for the
 * same reason. The cache also knows which pages hold the instructions it
 * has, so that a store there (code rewritten in place) can be noticed.
 */
#ifndef PMFIT_INSN_CACHE_H
#define PMFIT_INSN_CACHE_H

#include <cstddef>
#include <cstdint>
#include <unordered_set>
#include <vector>

#include "insn.h"
#include "remote_ptr.h"

namespace pmfit {

class InsnCache {
public:
	InsnCache();

	const InsnInfo *
	find(RemotePtr addr) const
	{
		const uint64_t key = addr.as_int();
		const size_t mask = keys_.size() - 1;
		for (size_t i = slot(key);; i = (i + 1) & mask) {
			uint64_t k = keys_[i];
			if (k == key)
				return &infos_[values_[i]];
			if (k == 0)
				return nullptr;
		}
	}
	InsnInfo *
	find(RemotePtr addr)
	{
		return const_cast<InsnInfo *>(static_cast<const InsnCache *>(this)->find(addr));
	}

	void insert(RemotePtr addr, InsnInfo info);

	/* holds_code -- whether [addr, addr + len) touches a page with an
	 * instruction of the cache */
	bool
	holds_code(RemotePtr addr, uint64_t len) const
	{
		if (len == 0 || pages_.empty())
			return false;
		for (uint64_t page = addr.as_int() >> PAGE_SHIFT; page <= (addr.as_int() + len - 1) >> PAGE_SHIFT;
		     page++) {
			if (pages_.count(page))
				return true;
		}
		return false;
	}

private:
	size_t
	slot(uint64_t key) const
	{
		return (size_t)((key * 0x9E3779B97F4A7C15ull) >> shift_);
	}
	void grow();

	std::vector<uint64_t> keys_;   /* 0: empty (no code at address 0) */
	std::vector<uint32_t> values_; /* index into infos_ */
	std::vector<InsnInfo> infos_;
	unsigned shift_;

	static constexpr unsigned PAGE_SHIFT = 12;
	std::unordered_set<uint64_t> pages_; /* page numbers of cached code */
};

} /* namespace pmfit */

#endif /* PMFIT_INSN_CACHE_H */
