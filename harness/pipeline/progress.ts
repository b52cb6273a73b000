// progress -- a progress bar on stderr while recording and checking, shown
// only when stderr is a terminal that can redraw it (logs, CI and TERM=dumb
// get the plain summary).

import { SingleBar, Presets } from 'cli-progress';
import { stderrRedraws } from '../_internals/terminal';

export class Progress {
  private bar?: SingleBar;
  private readonly enabled = stderrRedraws() && !process.env.CI;

  /** phase -- start a new bar; without a total it counts up (recording). */
  phase(label: string, total?: number): void {
    if (!this.enabled) return;
    this.stop();
    const format =
      total !== undefined
        ? `${label} [{bar}] {percentage}% | {value}/{total} crash points`
        : `${label}: {value} instructions`;
    this.bar = new SingleBar(
      { format, stream: process.stderr, clearOnComplete: true, hideCursor: true },
      Presets.shades_classic,
    );
    this.bar.start(total ?? 0, 0);
  }

  update(done: number): void {
    this.bar?.update(done);
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}
