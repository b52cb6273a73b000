/*
 * sentinel_main.cc -- the sentinel program (harness/tracer/sentinel.ts):
 * waits for pmfit to end, then kills every process that carries pmfit's run
 * mark and removes pmfit's temporary roots
 *
 *   pmfit_sentinel MARK RUN-TOKEN TEMP-PARENT...
 *
 * (the temporary directory, and /dev/shm when crash images go there,
 * temp-root.ts)
 *
 * Its stdin is a pipe whose only writer is pmfit: end of file means pmfit
 * is gone, however it ended (SIGKILL included). After a normal exit pmfit
 * has already killed its descendants (descendants.ts), and usually the
 * sentinel with them; this is the path for when it could not.
 *
 * A program of its own, not a second Node process: every pmfit run starts
 * one, and Node's start took 150-190 ms of CPU (`/usr/bin/time`), on the
 * same two cores as the recording it was started for.
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

/* C library calls only, no C++ library: the program starts without
 * loading libstdc++ (-Wl,--as-needed, binding.gyp) */
namespace {

/* KILL_ROUNDS -- scans at most: a process forked between a scan and the
 * kill carries the mark into the next */
constexpr int KILL_ROUNDS = 100;
/* REMOVE_TRIES -- removals of one root: a file created while it was
 * walked leaves its directory behind */
constexpr int REMOVE_TRIES = 4;

/* wait_for_end -- until stdin reads end of file (or fails): pmfit is gone */
void
wait_for_end()
{
	char buf[256];
	for (;;) {
		ssize_t got = read(0, buf, sizeof(buf));
		if (got == 0 || (got < 0 && errno != EINTR))
			return;
	}
}

/* Environ -- one process's environment as read, grown as needed */
struct Environ {
	char *data = nullptr;
	size_t size = 0, capacity = 0;
	~Environ() { free(data); }
};

/* read_environ -- the whole of /proc/PID/environ; false when unreadable
 * (gone, another user's) or out of memory */
bool
read_environ(const char *pid, Environ *env)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "/proc/%s/environ", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	env->size = 0;
	for (;;) {
		if (env->capacity - env->size < 4096) {
			size_t capacity = env->capacity * 2 + 8192;
			char *grown = static_cast<char *>(realloc(env->data, capacity));
			if (!grown) {
				close(fd);
				return false;
			}
			env->data = grown;
			env->capacity = capacity;
		}
		ssize_t got = read(fd, env->data + env->size, env->capacity - env->size);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		env->size += (size_t)got;
	}
	close(fd);
	return true;
}

/* carries -- whether pid's environment has entry (NAME=value and its NUL)
 * as one of its variables; a zombie's environment reads as empty */
bool
carries(const char *pid, const char *entry, size_t length, Environ *env)
{
	if (!read_environ(pid, env))
		return false;
	for (size_t at = 0; at + length <= env->size; at++) {
		if ((at == 0 || env->data[at - 1] == '\0') && memcmp(env->data + at, entry, length) == 0)
			return true;
	}
	return false;
}

/* kill_marked -- SIGKILL every live process other than this one that
 * carries entry, round after round until a scan finds none */
void
kill_marked(const char *entry, size_t length)
{
	const pid_t self = getpid();
	Environ env;
	for (int round = 0; round < KILL_ROUNDS; round++) {
		DIR *proc = opendir("/proc");
		if (!proc)
			return;
		bool found = false;
		while (dirent *d = readdir(proc)) {
			if (d->d_name[0] < '0' || d->d_name[0] > '9' || atoi(d->d_name) == self)
				continue;
			if (carries(d->d_name, entry, length, &env)) {
				kill(atoi(d->d_name), SIGKILL);
				found = true;
			}
		}
		closedir(proc);
		if (!found)
			return;
	}
}

int
remove_one(const char *path, const struct stat *, int, FTW *)
{
	remove(path);
	return 0;
}

/* remove_roots -- pmfit's temporary roots (temp-root.ts names them
 * pmfit-TOKEN-XXXXXX) under each parent, never through links */
void
remove_roots(const char *token, char *const parents[], int count)
{
	char prefix[NAME_MAX + 1];
	int prefix_length = snprintf(prefix, sizeof(prefix), "pmfit-%s-", token);
	if (prefix_length < 0 || prefix_length >= (int)sizeof(prefix))
		return;
	for (int i = 0; i < count; i++) {
		DIR *dir = opendir(parents[i]);
		if (!dir)
			continue;
		while (dirent *d = readdir(dir)) {
			if (strncmp(d->d_name, prefix, (size_t)prefix_length) != 0)
				continue;
			char root[PATH_MAX];
			if (snprintf(root, sizeof(root), "%s/%s", parents[i], d->d_name) >= (int)sizeof(root))
				continue;
			struct stat st;
			for (int tries = 0; tries < REMOVE_TRIES && lstat(root, &st) == 0; tries++)
				nftw(root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
		}
		closedir(dir);
	}
}

} /* namespace */

int
main(int argc, char *argv[])
{
	if (argc < 3) {
		fprintf(stderr, "usage: pmfit_sentinel MARK RUN-TOKEN TEMP-PARENT...\n");
		return 2;
	}
	/* started with every signal blocked (native/sentinel.h) */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, nullptr);
	/* PMFIT_RUN=MARK and its NUL */
	char entry[256];
	int length = snprintf(entry, sizeof(entry), "PMFIT_RUN=%s", argv[1]);
	if (length < 0 || length >= (int)sizeof(entry)) {
		fprintf(stderr, "pmfit_sentinel: mark too long\n");
		return 2;
	}
	wait_for_end();
	kill_marked(entry, (size_t)length + 1);
	remove_roots(argv[2], argv + 3, argc - 3);
	return 0;
}
