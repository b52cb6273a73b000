// sequential -- the persistency model of a killed process (or eADR).
//
// docs/models.md:
//   `sequential`: every PM write up to k (a killed process, or a platform with
//   eADR) survives a crash at k. States per crash point: 1.
//
// Stores, non-temporal stores and write syscalls are applied in order to one
// image; flushes, fences and syncs change nothing.

import { BaseImage, ImageSet } from '../image/image';
import { EventKind, TraceEvent } from '../trace/event';
import { CrashGroup, CrashState, PersistencyTrace } from './types';
import { Lease, ModelMachine, walkGroups } from './walk';

export class SequentialMachine implements ModelMachine {
  private readonly image: ImageSet;

  constructor(base: BaseImage) {
    this.image = new ImageSet(base, { hashed: true });
  }

  affects(event: TraceEvent): boolean {
    return (
      (event.kind === EventKind.Store || event.kind === EventKind.NtStore || event.kind === EventKind.Write) &&
      event.length > 0
    );
  }

  apply(event: TraceEvent): void {
    if (this.affects(event)) this.image.write(event.fileId, event.offset, event.data as Uint8Array);
  }

  states(_first: number, lease: Lease): CrashState[] {
    const image = this.image;
    return [
      {
        hash: image.hash(),
        patch: () => {
          lease.check();
          return image.patch();
        },
        describe: () => {
          lease.check();
          return [];
        },
      },
    ];
  }
}

/** sequentialCrashStates -- one state per crash point: every PM write up to k. */
export function sequentialCrashStates(trace: PersistencyTrace): Generator<CrashGroup, void, undefined> {
  return walkGroups(trace, new SequentialMachine(BaseImage.of(trace.images)));
}
