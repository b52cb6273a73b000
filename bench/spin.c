/*
 * spin.c -- the benchmark's traced program: main is one loop of
 * 3 instructions x N iterations (argv[1], default 350000), nothing else,
 * so that the span from main's entry to its ret is ~3N single steps.
 * Built non-PIE so that `nm` gives main's run-time address as is.
 */
#include <stdlib.h>

int
main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 350000;
	unsigned long sum = 0;
	__asm__ __volatile__("1:	add %1, %0\n"
			     "	dec %1\n"
			     "	jnz 1b\n"
			     : "+r"(sum), "+r"(n)
			     :
			     : "cc");
	return (int)(sum & 1);
}
