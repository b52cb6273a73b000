// strings-file -- read the strings stored by `basic` (targets/basic/basic.c).
//
// Pure function over a Buffer holding the whole file (no I/O). Format: the
// strings are packed from offset 0, each NUL-terminated; they end at the first
// empty string (a NUL where a string would start) or at the end of the file.
// A last string cut off by the end of the file counts (basic prints it too).
// Never throws; the work is linear in the buffer size.

/** The size `basic` gives a missing or empty file. */
export const BASIC_SIZE = 8192;

/** readStrings -- the stored strings, decoded as UTF-8, in order. */
export function readStrings(buf: Buffer): string[] {
  const out: string[] = [];
  let pos = 0;
  while (pos < buf.length && buf[pos] !== 0) {
    let nul = buf.indexOf(0, pos);
    if (nul < 0) nul = buf.length;
    out.push(buf.toString('utf8', pos, nul));
    pos = nul + 1;
  }
  return out;
}
