/*
 * error.h -- TaskError, the one exception the tracer throws, the helpers
 * that word its messages, and PMFIT_ASSERT for the tracer's invariants
 *
 * An invariant that fails is a bug of the tracer: it is reported as a
 * one-line TaskError naming the file and line (JavaScript turns it into an
 * error) instead of aborting Node, which would leave nobody to kill the
 * tracee.
 */
#ifndef PMFIT_ERROR_H
#define PMFIT_ERROR_H

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

namespace pmfit {

/* TaskError -- a failure the caller can only report; what() is one line */
class TaskError : public std::runtime_error {
public:
	using std::runtime_error::runtime_error;
};

inline std::string
hex(uint64_t value)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)value);
	return buf;
}

inline std::string
syserr(const std::string &what, int err)
{
	return what + ": " + strerror(err);
}

[[noreturn]] inline void
invariant_failed(const char *what, const char *file, int line)
{
	throw TaskError(std::string("tracer invariant broken: ") + what + " (" + file + ":" + std::to_string(line) +
			")");
}

} /* namespace pmfit */

#define PMFIT_ASSERT(cond)                                                                                             \
	do {                                                                                                           \
		if (__builtin_expect(!(cond), 0))                                                                      \
			::pmfit::invariant_failed(#cond, __FILE__, __LINE__);                                          \
	} while (0)

#endif /* PMFIT_ERROR_H */
