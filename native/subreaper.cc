/*
 * subreaper.cc -- PR_SET_CHILD_SUBREAPER
 */
#include "subreaper.h"

#include <sys/prctl.h>

#include <cerrno>

#include "error.h"

namespace pmfit {

void
become_subreaper()
{
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
		throw TaskError(syserr("PR_SET_CHILD_SUBREAPER", errno));
}

} /* namespace pmfit */
