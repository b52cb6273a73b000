// abbreviate-ranges -- a long crash-point list ("1-1989,2001,...") cut to
// fit one line of a report.

/** abbreviateRanges -- at most about `max` characters of a range list, cut at
 *  an item boundary, with how many items were left off. */
export function abbreviateRanges(text: string, max = 120): string {
  if (text.length <= max) return text;
  const cut = text.lastIndexOf(',', max);
  const head = cut > 0 ? text.slice(0, cut) : text.slice(0, max);
  const rest = text.slice(head.length).split(',').filter(Boolean).length;
  return `${head},… (+${rest} more)`;
}
