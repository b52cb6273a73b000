/*
 * tracee_memory.h -- reading and patching a stopped tracee's memory
 */
#ifndef PMFIT_TRACEE_MEMORY_H
#define PMFIT_TRACEE_MEMORY_H

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

#include "remote_ptr.h"

namespace pmfit {

/*
 * read_tracee -- bytes of the tracee; how many could be read from the start
 *
 * process_vm_readv is one call for any length but refuses pages the tracee
 * itself may not read (for example execute-only code); PTRACE_PEEKDATA reads
 * those word by word.
 */
size_t read_tracee(pid_t pid, RemotePtr addr, uint8_t *buf, size_t len);

/* read_word -- one 8-byte word at addr; throws TaskError naming what */
uint64_t read_word(pid_t pid, RemotePtr addr, const char *what);

/* poke_byte -- replace one byte of code, through the aligned word around
 * it; the byte it replaced in *old if old is given; throws TaskError */
void poke_byte(pid_t pid, RemotePtr addr, uint8_t byte, uint8_t *old);

} /* namespace pmfit */

#endif /* PMFIT_TRACEE_MEMORY_H */
