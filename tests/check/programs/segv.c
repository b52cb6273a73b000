/* segv -- a recovery that dereferences NULL (tests/check: recovery-crashed). */
#include <stdio.h>

int main(int argc, char **argv) {
  volatile int *p = (volatile int *)0;
  fprintf(stderr, "segv: recovering %s\n", argc > 1 ? argv[1] : "(none)");
  *p = 1;
  return 0;
}
