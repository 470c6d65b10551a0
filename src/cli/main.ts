/**
 * What every entry point shares: user errors become one line on stderr and a non-zero exit, never a stack
 * trace; Ctrl-C or SIGTERM stops the run and writes nothing (exit 130), the previous report left as it was.
 *
 * Signals are handled from the first moment: `npm run` loads ./signals.mjs before the TypeScript loader
 * (`node --import ./src/cli/signals.mjs --import tsx/esm …`), and this module takes its handlers over when
 * it is evaluated (an entry point imports it first, so that happens before the slow imports such as tfjs).
 * Started without that preload, this module installs the handlers itself. Work that runs on this thread
 * synchronously (reading a data file, a tfjs step) cannot be interrupted; the signal is seen as soon as it
 * ends. Once the run is told to stop it has a second to finish (roll back and say so); after that the
 * process exits with 130 anyway, and a second signal exits at once. A pending report swap is rolled back
 * on any exit (see results/files.ts), so no path out of here leaves a half-replaced report.
 */
import { UserError } from '../core/errors.ts';

export const EXIT = { ok: 0, bug: 1, usage: 2, diverged: 3, interrupted: 130 } as const;

const INTERRUPTED = '\ninterrupted: nothing was written\n';
const GRACE_MS = 1000;

const ac = new AbortController();
let finished = false;
let told = false;
let grace: NodeJS.Timeout | undefined;
const tell = () => {
  if (!told) process.stderr.write(INTERRUPTED);
  told = true;
};
const onSignal = () => {
  if (finished) process.exit(Number(process.exitCode ?? 0)); // the run is over, its report committed
  if (ac.signal.aborted) {
    tell();
    process.exit(EXIT.interrupted); // second Ctrl-C: leave at once
  }
  ac.abort();
  // whatever the run is waiting for, it has a second to notice
  grace = setTimeout(() => {
    tell();
    process.exit(EXIT.interrupted);
  }, GRACE_MS);
};

const KEY = Symbol.for('mnist-duel.signals');
const early = (globalThis as Record<symbol, unknown>)[KEY] as { owner: ((signal: string) => void) | null } | undefined;
if (early) {
  early.owner = onSignal;
} else {
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const parent = process.ppid; // see signals.mjs: a parent that died counts as SIGTERM
  const watch = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(watch);
    process.stdout.on('error', () => {});
    process.stderr.on('error', () => {});
    onSignal();
  }, 200);
  watch.unref();
}

/**
 * A test hook: MNIST_DUEL_TEST_SIGNAL_AT=<point> sends this process SIGTERM at that point of a run
 * ('after-run': training done, nothing written; 'after-swap': the new report renamed into place, not yet
 * committed), so the tests hit those moments every time instead of by timing luck.
 */
export function testSignalAt(point: string): void {
  if (process.env.MNIST_DUEL_TEST_SIGNAL_AT === point) process.kill(process.pid, 'SIGTERM');
}

/**
 * Lets the event loop run through its poll phase, where a signal that arrived during synchronous work
 * (reading the data) is delivered to the handlers above, then throws if the run was interrupted: call it
 * before starting long work, and before a report is committed. Two setImmediate turns: the first may fire
 * before that poll phase.
 */
export async function checkpoint(signal: AbortSignal): Promise<void> {
  for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
  signal.throwIfAborted();
}

export async function main(run: (signal: AbortSignal) => Promise<number>): Promise<void> {
  try {
    ac.signal.throwIfAborted(); // a signal during the imports
    process.exitCode = await run(ac.signal);
  } catch (e) {
    if (ac.signal.aborted) {
      tell();
      process.exitCode = EXIT.interrupted;
    } else if (e instanceof UserError) {
      process.stderr.write(`error: ${e.message}\n`);
      process.exitCode = EXIT.usage;
    } else {
      process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = EXIT.bug;
    }
  } finally {
    finished = true;
    // told to stop: do not wait for workers that are still stopping. A run that returned all the same had
    // committed its report before the signal was seen, and keeps its exit status.
    if (grace) process.exit(Number(process.exitCode));
  }
}
