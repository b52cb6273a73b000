/*
 * subreaper.h -- pmfit as the child subreaper of everything it starts
 */
#ifndef PMFIT_SUBREAPER_H
#define PMFIT_SUBREAPER_H

namespace pmfit {

/*
 * become_subreaper -- PR_SET_CHILD_SUBREAPER on the calling process: a
 * descendant whose parent dies (a daemon's double fork, a child the traced
 * program left behind) is re-parented to it instead of init, so that it
 * can still be found among its children and killed. Throws TaskError.
 */
void become_subreaper();

} /* namespace pmfit */

#endif /* PMFIT_SUBREAPER_H */
