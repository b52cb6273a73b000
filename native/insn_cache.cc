/*
 * insn_cache.cc -- InsnCache: insertion and growth of the open-addressing
 * table (lookups are inline in insn_cache.h)
 */
#include "insn_cache.h"

#include <utility>

#include "error.h"

namespace pmfit {

InsnCache::InsnCache() : keys_(1024, 0), values_(1024, 0), shift_(64 - 10) {}

void
InsnCache::insert(RemotePtr addr, InsnInfo info)
{
	const uint64_t key = addr.as_int();
	if (key == 0)
		return;
	const uint64_t last = key + (info.length ? info.length - 1 : 0);
	for (uint64_t page = key >> PAGE_SHIFT; page <= last >> PAGE_SHIFT; page++)
		pages_.insert(page);
	size_t mask = keys_.size() - 1;
	for (size_t i = slot(key);; i = (i + 1) & mask) {
		if (keys_[i] == key) {
			infos_[values_[i]] = std::move(info);
			return;
		}
		if (keys_[i] == 0)
			break;
	}
	if ((infos_.size() + 1) * 2 > keys_.size())
		grow();
	mask = keys_.size() - 1;
	size_t i = slot(key);
	while (keys_[i] != 0)
		i = (i + 1) & mask;
	keys_[i] = key;
	values_[i] = (uint32_t)infos_.size();
	infos_.push_back(std::move(info));
	/* at most half full: every probe sequence ends at an empty slot */
	PMFIT_ASSERT(infos_.size() * 2 <= keys_.size());
}

void
InsnCache::grow()
{
	std::vector<uint64_t> old_keys(keys_.size() * 2, 0);
	std::vector<uint32_t> old_values(values_.size() * 2, 0);
	old_keys.swap(keys_);
	old_values.swap(values_);
	shift_--;
	/* the table size stays 2^(64 - shift_) */
	PMFIT_ASSERT(keys_.size() == (size_t)1 << (64 - shift_));
	size_t mask = keys_.size() - 1;
	for (size_t j = 0; j < old_keys.size(); j++) {
		if (old_keys[j] == 0)
			continue;
		size_t i = slot(old_keys[j]);
		while (keys_[i] != 0)
			i = (i + 1) & mask;
		keys_[i] = old_keys[j];
		values_[i] = old_values[j];
	}
}

} /* namespace pmfit */
