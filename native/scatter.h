/*
 * scatter.h -- AVX-512 scatters (vpscatter*, vscatter*), the one store
 * whose single step a page fault can split: the CPU writes the elements
 * before the faulting one, clears their opmask bits and takes the fault;
 * the step is then reported complete with rip unchanged, and the next
 * steps write the rest (Intel SDM vol. 2, VPSCATTERDD: "faults are
 * delivered in a conservative manner"). Which pages fault is not the
 * program's doing (the recorder's own write-protection, write-back,
 * the page cache), so the stepping loop runs such a scatter to its end
 * as one instruction in every mode: recording and `pmfit crash` count it
 * the same.
 */
#ifndef PMFIT_SCATTER_H
#define PMFIT_SCATTER_H

#include <cstddef>
#include <cstdint>

#include "insn.h"

namespace pmfit {

/* MAX_SCATTER_STEPS -- steps one scatter may take: one per element (16 at
 * most) and then some; past it the loop counts the step as usual */
constexpr int MAX_SCATTER_STEPS = 64;

/* scatter_encoding -- whether bytes (at least 16 of the code at an
 * address, zeros past what could be read) begin with an EVEX scatter:
 * segment or address-size prefixes, 62, map 0F38, opcode A0-A3 */
bool scatter_encoding(const uint8_t *bytes, size_t len);

/* writes_scatter -- whether a decoded instruction is a scatter */
bool writes_scatter(const InsnInfo &insn);

} /* namespace pmfit */

#endif /* PMFIT_SCATTER_H */
