/*
 * proc_maps.cc -- a process's mappings as /proc/PID/maps lists them
 */
#include "proc_maps.h"

#include <sys/mman.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>

#include "error.h"

namespace pmfit {

int
MapsLine::prot() const
{
	return (readable() ? PROT_READ : 0) | (writable() ? PROT_WRITE : 0) | (executable() ? PROT_EXEC : 0);
}

bool
MapsLine::file_among(const std::vector<std::pair<dev_t, uint64_t>> &files) const
{
	return inode != 0 && std::find(files.begin(), files.end(), std::make_pair(dev, inode)) != files.end();
}

std::vector<std::pair<dev_t, uint64_t>>
files_of(const std::vector<MapsLine> &maps, bool (*pick)(const MapsLine &))
{
	std::vector<std::pair<dev_t, uint64_t>> files;
	for (const MapsLine &m : maps) {
		if (m.inode != 0 && pick(m))
			files.push_back({m.dev, m.inode});
	}
	return files;
}

std::vector<MapsLine>
read_proc_maps(pid_t pid)
{
	const std::string path = "/proc/" + std::to_string(pid) + "/maps";
	FILE *f = fopen(path.c_str(), "re");
	if (!f)
		throw TaskError(syserr("open " + path, errno));
	std::vector<MapsLine> out;
	/* getline: a line of any length (a path may be up to PATH_MAX) */
	char *line = nullptr;
	size_t capacity = 0;
	ssize_t length;
	while ((length = getline(&line, &capacity, f)) > 0) {
		if (line[length - 1] == '\n')
			line[--length] = '\0';
		MapsLine m{};
		unsigned major_no, minor_no;
		int name_at = 0;
		/* the kernel pads the name's column with spaces; " %n" skips them */
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %x:%x %" SCNu64 " %n", &m.start, &m.end,
			   m.perms, &m.offset, &major_no, &minor_no, &m.inode, &name_at) < 7 ||
		    name_at == 0)
			continue;
		m.dev = makedev(major_no, minor_no);
		m.name.assign(line + name_at, (size_t)(length - name_at));
		out.push_back(std::move(m));
	}
	free(line);
	fclose(f);
	return out;
}

} /* namespace pmfit */
