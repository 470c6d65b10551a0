/**
 * Progress on stderr: a live bar on a terminal, a plain line every ~10% (or 10 s) otherwise, so logs of
 * non-interactive runs stay short. Never writes to stdout (results go there).
 */
import type { ProgressEvent } from '../harness/run.ts';

export function progressReporter(stream: NodeJS.WriteStream = process.stderr): { update: (e: ProgressEvent) => void; done: () => void } {
  const tty = stream.isTTY === true;
  let lastLabel = '';
  let lastDraw = 0;
  let lastLine = 0;
  const start = Date.now();
  const elapsed = () => `${((Date.now() - start) / 1000).toFixed(0)}s`;
  return {
    update(e) {
      const now = Date.now();
      const frac = e.total ? e.done / e.total : 1;
      if (tty) {
        if (e.label === lastLabel && now - lastDraw < 100 && e.done !== e.total) return;
        lastDraw = now;
        lastLabel = e.label;
        const width = 28;
        const fill = Math.round(frac * width);
        stream.write(`\r\x1b[2K${e.label.padEnd(34)} [${'█'.repeat(fill)}${'·'.repeat(width - fill)}] ${e.done}/${e.total} ${elapsed()}`);
      } else {
        // a line when a trainer finishes, and every 10 s while one runs
        if (e.done !== e.total && now - lastLine < 10_000) return;
        lastLine = now;
        const pct = Math.floor(frac * 100);
        stream.write(`${e.label}: ${e.done}/${e.total} steps (${pct}%) ${elapsed()}\n`);
      }
    },
    done() {
      if (tty && lastLabel) stream.write('\r\x1b[2K');
    },
  };
}
