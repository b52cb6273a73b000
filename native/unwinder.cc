/*
 * unwinder.cc -- libdw's unwinder, resolved with dlopen/dlsym
 *
 * libdwfl's interface as used here (elfutils libdwfl.h, stable since
 * 0.158): every type is opaque but Dwfl_Callbacks, a struct of three
 * function pointers and a char ** that the caller fills. Declaring these
 * few signatures here instead of including the header keeps libdw-dev off
 * the build machine and libdw off the addon's link line (the prebuilt
 * addon must load where libdw is missing).
 */
#include "unwinder.h"

#include <dlfcn.h>

#include <cstdint>

#include "error.h"

namespace pmfit {

namespace {

struct Dwfl;
struct DwflModule;
struct DwflFrame;
struct Elf;
using DwarfAddr = uint64_t;

/* Dwfl_Callbacks, field for field */
struct DwflCallbacks {
	int (*find_elf)(DwflModule *, void **, const char *, DwarfAddr, char **, Elf **);
	int (*find_debuginfo)(DwflModule *, void **, const char *, DwarfAddr, const char *, const char *, uint32_t,
			      char **);
	int (*section_address)(DwflModule *, void **, const char *, DwarfAddr, const char *, uint32_t, const void *,
			       DwarfAddr *);
	char **debuginfo_path;
};

/* dwfl_getthread_frames' callback answers */
constexpr int DWARF_CB_OK = 0;
constexpr int DWARF_CB_ABORT = 1;

struct Libdw {
	void *handle = nullptr;
	Dwfl *(*begin)(const DwflCallbacks *) = nullptr;
	int (*proc_report)(Dwfl *, pid_t) = nullptr;
	int (*report_end)(Dwfl *, int (*)(DwflModule *, void *, const char *, DwarfAddr, void *), void *) = nullptr;
	int (*proc_attach)(Dwfl *, pid_t, bool) = nullptr;
	int (*getthread_frames)(Dwfl *, pid_t, int (*)(DwflFrame *, void *), void *) = nullptr;
	bool (*frame_pc)(DwflFrame *, DwarfAddr *, bool *) = nullptr;
	void (*end)(Dwfl *) = nullptr;
	const char *(*errmsg)(int) = nullptr;
	int (*proc_find_elf)(DwflModule *, void **, const char *, DwarfAddr, char **, Elf **) = nullptr;
};

Libdw libdw;

/* no_debuginfo -- separate debug files are never looked for: .eh_frame,
 * which every x86-64 module has, is enough to unwind, and the standard
 * finder may ask a debuginfod server over the network */
int
no_debuginfo(DwflModule *, void **, const char *, DwarfAddr, const char *, const char *, uint32_t, char **)
{
	return -1;
}

char *no_debuginfo_path = nullptr;

template <typename Fn>
bool
resolve(void *handle, const char *name, Fn *out, std::string *missing)
{
	*out = reinterpret_cast<Fn>(dlsym(handle, name));
	if (*out == nullptr && missing->empty())
		*missing = name;
	return *out != nullptr;
}

std::string
dwfl_error()
{
	const char *message = libdw.errmsg(-1);
	return message ? message : "unknown libdw error";
}

struct Collect {
	std::vector<UnwoundFrame> *frames;
	size_t max;
};

int
collect_frame(DwflFrame *frame, void *arg)
{
	Collect *collect = static_cast<Collect *>(arg);
	DwarfAddr pc = 0;
	bool activation = false;
	if (!libdw.frame_pc(frame, &pc, &activation))
		return DWARF_CB_ABORT;
	collect->frames->push_back(UnwoundFrame{RemotePtr(pc), !activation});
	return collect->frames->size() >= collect->max ? DWARF_CB_ABORT : DWARF_CB_OK;
}

/* Session -- one Dwfl over one process, ended on every way out */
class Session {
public:
	explicit Session(pid_t pid)
	{
		static const DwflCallbacks callbacks = {libdw.proc_find_elf, no_debuginfo, nullptr, &no_debuginfo_path};
		dwfl_ = libdw.begin(&callbacks);
		if (dwfl_ == nullptr)
			throw TaskError("libdw: " + dwfl_error());
		if (libdw.proc_report(dwfl_, pid) != 0 || libdw.report_end(dwfl_, nullptr, nullptr) != 0)
			fail("cannot read the modules of process " + std::to_string(pid));
		if (libdw.proc_attach(dwfl_, pid, true) != 0)
			fail("cannot attach to process " + std::to_string(pid));
	}
	~Session() { libdw.end(dwfl_); }
	Session(const Session &) = delete;
	Session &operator=(const Session &) = delete;

	Dwfl *
	get() const
	{
		return dwfl_;
	}

private:
	[[noreturn]] void
	fail(const std::string &what)
	{
		std::string message = "libdw: " + what + ": " + dwfl_error();
		libdw.end(dwfl_);
		dwfl_ = nullptr;
		throw TaskError(message);
	}

	Dwfl *dwfl_ = nullptr;
};

} /* namespace */

std::string
Unwinder::load(const std::string &library)
{
	if (libdw.handle != nullptr)
		return "";
	void *handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
	if (handle == nullptr) {
		const char *why = dlerror();
		return why ? why : library + ": cannot be loaded";
	}
	Libdw found;
	std::string missing;
	resolve(handle, "dwfl_begin", &found.begin, &missing);
	resolve(handle, "dwfl_linux_proc_report", &found.proc_report, &missing);
	resolve(handle, "dwfl_report_end", &found.report_end, &missing);
	resolve(handle, "dwfl_linux_proc_attach", &found.proc_attach, &missing);
	resolve(handle, "dwfl_getthread_frames", &found.getthread_frames, &missing);
	resolve(handle, "dwfl_frame_pc", &found.frame_pc, &missing);
	resolve(handle, "dwfl_end", &found.end, &missing);
	resolve(handle, "dwfl_errmsg", &found.errmsg, &missing);
	resolve(handle, "dwfl_linux_proc_find_elf", &found.proc_find_elf, &missing);
	if (!missing.empty()) {
		dlclose(handle);
		return library + " has no " + missing + " (elfutils 0.158 or later unwinds)";
	}
	found.handle = handle;
	libdw = found;
	return "";
}

std::vector<UnwoundFrame>
Unwinder::stack(pid_t pid, pid_t tid, size_t max)
{
	if (libdw.handle == nullptr)
		throw TaskError("stack: libdw is not loaded");
	PMFIT_ASSERT(max > 0);
	Session session(pid);
	std::vector<UnwoundFrame> frames;
	Collect collect = {&frames, max};
	/* -1 past the outermost frame too (no CFI for _start's caller):
	 * an error only when not even the first frame came */
	if (libdw.getthread_frames(session.get(), tid, collect_frame, &collect) < 0 && frames.empty())
		throw TaskError("libdw: cannot unwind thread " + std::to_string(tid) + ": " + dwfl_error());
	return frames;
}

} /* namespace pmfit */
