/*
 * sentinel.h -- start pmfit's sentinel process without Node's child_process
 *
 * Any child started through libuv makes libuv install a SIGCHLD handler
 * that writes one message per signal into the event loop's signal pipe.
 * A traced program stopping for every single step sends pmfit a SIGCHLD
 * each time; while the JavaScript thread steps in native code the pipe
 * fills, and a SIGTERM or SIGINT arriving then is dropped (its write gets
 * EAGAIN): pmfit stepped on, deaf to the signal (measured: `pmfit count`
 * of loop_forever ignored SIGTERM in about one run of three once a child
 * had been spawned). So the sentinel, which every run starts, is started
 * here, unknown to libuv: a program of its own (sentinel_main.cc), whose
 * child shares pmfit's memory until its exec (shared_clone.h) instead of
 * copying it.
 */
#ifndef PMFIT_SENTINEL_H
#define PMFIT_SENTINEL_H

#include <sys/types.h>

#include <string>
#include <vector>

namespace pmfit {

/*
 * start_sentinel -- clone, setsid and execve file with argv and env; its
 * stdin is a pipe whose write end stays open in pmfit (close-on-exec) until
 * pmfit ends, its stdout and stderr /dev/null, no other descriptor, every
 * signal blocked (the program unblocks them). Once per process. The pid.
 * Throws TaskError.
 */
pid_t start_sentinel(const std::string &file, const std::vector<std::string> &argv,
		     const std::vector<std::string> &env);

} /* namespace pmfit */

#endif /* PMFIT_SENTINEL_H */
