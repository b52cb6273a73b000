/* upcase -- a recovery that rewrites its PM file in place: lowercase ASCII
 * letters become uppercase; prints the file's new content on stdout.
 * Exits 3 when the file starts with '!' (tests/check: recovery-failed). */
#include <stdio.h>

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  FILE *f = fopen(argv[1], "r+b");
  if (!f) { perror(argv[1]); return 2; }
  char buf[4096];
  size_t n = fread(buf, 1, sizeof buf, f);
  if (n > 0 && buf[0] == '!') { fprintf(stderr, "upcase: bad pool\n"); return 3; }
  for (size_t i = 0; i < n; i++)
    if (buf[i] >= 'a' && buf[i] <= 'z') buf[i] = (char)(buf[i] - 'a' + 'A');
  rewind(f);
  fwrite(buf, 1, n, f);
  fclose(f);
  fwrite(buf, 1, n, stdout);
  return 0;
}
