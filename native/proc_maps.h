/*
 * proc_maps.h -- a process's mappings as /proc/PID/maps lists them
 *
 * One reader for the fence hunt (code it may walk, pointers it may
 * follow), PM protection (what each page allows) and store emulation (the
 * PM file under a shared mapping): each keeps the lines it needs.
 */
#ifndef PMFIT_PROC_MAPS_H
#define PMFIT_PROC_MAPS_H

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace pmfit {

/* MapsLine -- one mapping */
struct MapsLine {
	uint64_t start;
	uint64_t end;	 /* one past the last byte */
	char perms[5];	 /* "rwxp", "r--s": the fourth letter 's' when shared */
	uint64_t offset; /* file offset mapped at start */
	dev_t dev;
	uint64_t inode;
	/* a path (" (deleted)" after it when removed), a pseudo name such
	 * as "[vdso]", or "" for anonymous memory */
	std::string name;

	bool
	readable() const
	{
		return perms[0] == 'r';
	}
	bool
	writable() const
	{
		return perms[1] == 'w';
	}
	bool
	executable() const
	{
		return perms[2] == 'x';
	}
	bool
	shared() const
	{
		return perms[3] == 's';
	}
	/* the kernel's own: [stack], [heap], [vdso], [vvar]... */
	bool
	pseudo() const
	{
		return !name.empty() && name[0] == '[';
	}
	/* PROT_READ | PROT_WRITE | PROT_EXEC as the permissions say */
	int prot() const;
	/* file_among -- a mapping of one of these files (files_of) */
	bool file_among(const std::vector<std::pair<dev_t, uint64_t>> &files) const;
};

/* files_of -- the files (device, inode) of the mappings pick holds for;
 * anonymous memory (inode 0) aside. A page of a private mapping not
 * copied yet shows its file as it is, so a store through a shared
 * mapping of the same file changes it with no system call */
std::vector<std::pair<dev_t, uint64_t>> files_of(const std::vector<MapsLine> &maps, bool (*pick)(const MapsLine &));

/* read_proc_maps -- every mapping of process pid, in address order;
 * throws TaskError when the file cannot be opened (the process is gone) */
std::vector<MapsLine> read_proc_maps(pid_t pid);

} /* namespace pmfit */

#endif /* PMFIT_PROC_MAPS_H */
