/**
 * Progress on stderr: a live bar on a terminal, a plain line every ~10% (or 10 s) otherwise, so logs of
 * non-interactive runs stay short. Never writes to stdout (results go there). A run announces itself
 * before its first step (done 0), and while a step is long (a wide network) a heartbeat repeats the last
 * line every HEARTBEAT_MS with the time elapsed, so a long first step never looks like a hang.
 */
import type { ProgressEvent } from '../harness/run.ts';

const HEARTBEAT_MS = 10_000;

export function progressReporter(stream: NodeJS.WriteStream = process.stderr): { update: (e: ProgressEvent) => void; done: () => void } {
  const tty = stream.isTTY === true;
  let lastLabel = '';
  let lastDraw = 0;
  let lastLine = 0;
  let last: ProgressEvent | null = null;
  const start = Date.now();
  const elapsed = () => `${((Date.now() - start) / 1000).toFixed(0)}s`;
  const draw = (e: ProgressEvent, now: number, force: boolean) => {
    const frac = e.total ? e.done / e.total : 1;
    if (tty) {
      if (!force && e.label === lastLabel && now - lastDraw < 100 && e.done !== e.total) return;
      lastDraw = now;
      lastLabel = e.label;
      const width = 28;
      const fill = Math.round(frac * width);
      stream.write(`\r\x1b[2K${e.label.padEnd(34)} [${'█'.repeat(fill)}${'·'.repeat(width - fill)}] ${e.done}/${e.total} ${elapsed()}`);
    } else {
      // a line when a trainer finishes, and every 10 s while one runs
      if (!force && e.done !== e.total && now - lastLine < HEARTBEAT_MS) return;
      lastLine = now;
      const pct = Math.floor(frac * 100);
      stream.write(`${e.label}: ${e.done}/${e.total} steps (${pct}%) ${elapsed()}${force ? ', working' : ''}\n`);
    }
  };
  // only while the event loop is free: the hand-written trainers' steps run in a worker thread
  const heartbeat = setInterval(() => {
    const now = Date.now();
    if (last && last.done !== last.total && now - Math.max(lastLine, lastDraw) >= HEARTBEAT_MS) draw(last, now, true);
  }, 1000);
  heartbeat.unref();
  return {
    update(e) {
      last = e;
      draw(e, Date.now(), false);
    },
    done() {
      clearInterval(heartbeat);
      if (tty && lastLabel) stream.write('\r\x1b[2K');
    },
  };
}
