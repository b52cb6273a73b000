// trace-show -- `pmfit trace show`: the events of a trace, with symbols.

import { eventKindNames, NO_FILE } from '../../trace/event';
import { TraceReader } from '../../trace/format';
import { formatPtr } from '../../tracer/remote-ptr';

export interface TraceShowOptions {
  json?: boolean;
}

export async function traceShow(file: string, options: TraceShowOptions): Promise<number> {
  const reader = TraceReader.open(file);
  try {
    const { header } = reader;
    // Threads are named once a trace has more than one.
    const threaded = header.regions.some((region) => region.thread !== undefined);
    if (options.json) {
      // Streamed by hand: a trace may hold millions of events.
      process.stdout.write(`{"instructions": ${header.instructions}, "events": [`);
      let first = true;
      for (const event of reader.events()) {
        const entry = {
          index: event.index,
          kind: eventKindNames[event.kind],
          file: event.fileId === NO_FILE ? null : header.files[event.fileId].path,
          offset: event.offset,
          length: event.length,
          ...(threaded ? { thread: event.thread ?? 0 } : {}),
        };
        process.stdout.write(`${first ? '' : ','}\n  ${JSON.stringify(entry)}`);
        first = false;
      }
      process.stdout.write('\n]}\n');
      return 0;
    }
    process.stdout.write(`command: ${header.argv.join(' ')}\n`);
    process.stdout.write(
      `instructions: ${header.instructions}, events: ${header.events}, regions: ${header.regions.map((r) => `${r.begin + 1}-${r.end}`).join(', ')}\n`,
    );
    const stops = header.fastStops;
    if (stops) {
      process.stdout.write(
        `fast recorder stops: ${stops.faults} PM faults, ${stops.watchFaults} watched-page faults, ${stops.flushTraps} flush traps, ${stops.frontier} fence-hunt breakpoints, ${stops.syscalls} system calls, ${stops.mprotects} mprotect calls made, ${stops.emulated} stores emulated\n`,
      );
    }
    if (header.flushTrapsOff !== undefined) process.stdout.write(`flushes not trapped: ${header.flushTrapsOff}\n`);
    header.files.forEach((pm, id) => process.stdout.write(`file ${id}: ${pm.path} (${pm.size} bytes)\n`));
    for (const event of reader.events()) {
      const at = header.addresses[formatPtr(event.address)];
      const where = at
        ? `${at.symbol ? `${at.symbol}+0x${(at.symbolOffset ?? 0).toString(16)}` : formatPtr(event.address)}  ${at.text}`
        : formatPtr(event.address);
      const target =
        event.fileId === NO_FILE ? '' : ` file ${event.fileId} +0x${event.offset.toString(16)} len ${event.length}`;
      process.stdout.write(
        `${String(event.index).padStart(10)}  ${threaded ? `T${event.thread ?? 0}  ` : ''}${eventKindNames[event.kind].padEnd(10)}${target}  ${where}\n`,
      );
    }
    return 0;
  } finally {
    reader.close();
  }
}
