// signal-name -- "SIGSEGV" for 11, from Node's own table.

import * as os from 'os';

export function signalName(signal: number): string {
  const entry = Object.entries(os.constants.signals).find(([, number]) => number === signal);
  return entry ? entry[0] : `signal ${signal}`;
}
