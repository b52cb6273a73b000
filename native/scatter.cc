/*
 * scatter.cc -- recognising a scatter by its bytes (Intel SDM vol. 2,
 * 2.7.1 EVEX encoding: 62 P0 P1 P2 opcode; P0 bits 2:0 select the opcode
 * map, 2 for 0F38) and by its decoding
 */
#include "scatter.h"

namespace pmfit {

bool
scatter_encoding(const uint8_t *bytes, size_t len)
{
	size_t i = 0;
	/* cs ss ds es fs gs overrides and 67 may precede an EVEX prefix */
	while (i < len && (bytes[i] == 0x26 || bytes[i] == 0x2e || bytes[i] == 0x36 || bytes[i] == 0x3e ||
			   bytes[i] == 0x64 || bytes[i] == 0x65 || bytes[i] == 0x67))
		i++;
	if (i + 5 > len || bytes[i] != 0x62 || (bytes[i + 1] & 0x7) != 2)
		return false;
	return bytes[i + 4] >= 0xa0 && bytes[i + 4] <= 0xa3;
}

bool
writes_scatter(const InsnInfo &insn)
{
	for (const MemOperand &op : insn.writes)
		if (op.kind == MEM_SCATTER)
			return true;
	return false;
}

} /* namespace pmfit */
