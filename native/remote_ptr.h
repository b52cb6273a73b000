/*
 * remote_ptr.h -- an address in the tracee's address space (rr's remote_ptr)
 *
 * Tracee addresses, file offsets, lengths and instruction indexes are all
 * 64-bit integers here; a distinct type keeps the compiler from letting one
 * pass for another, which is the usual bug in a tracer.
 */
#ifndef PMFIT_REMOTE_PTR_H
#define PMFIT_REMOTE_PTR_H

#include <cstdint>

namespace pmfit {

class RemotePtr {
public:
	constexpr RemotePtr() : addr_(0) {}
	constexpr explicit RemotePtr(uint64_t addr) : addr_(addr) {}

	constexpr uint64_t
	as_int() const
	{
		return addr_;
	}
	constexpr bool
	is_null() const
	{
		return addr_ == 0;
	}

	constexpr RemotePtr
	operator+(uint64_t delta) const
	{
		return RemotePtr(addr_ + delta);
	}
	constexpr RemotePtr
	operator-(uint64_t delta) const
	{
		return RemotePtr(addr_ - delta);
	}
	constexpr uint64_t
	operator-(RemotePtr other) const
	{
		return addr_ - other.addr_;
	}

	constexpr bool
	operator==(RemotePtr other) const
	{
		return addr_ == other.addr_;
	}
	constexpr bool
	operator!=(RemotePtr other) const
	{
		return addr_ != other.addr_;
	}
	constexpr bool
	operator<(RemotePtr other) const
	{
		return addr_ < other.addr_;
	}
	constexpr bool
	operator<=(RemotePtr other) const
	{
		return addr_ <= other.addr_;
	}
	constexpr bool
	operator>(RemotePtr other) const
	{
		return addr_ > other.addr_;
	}
	constexpr bool
	operator>=(RemotePtr other) const
	{
		return addr_ >= other.addr_;
	}

private:
	uint64_t addr_;
};

} /* namespace pmfit */

#endif /* PMFIT_REMOTE_PTR_H */
