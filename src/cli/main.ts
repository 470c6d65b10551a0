/**
 * What every entry point shares: user errors become one line on stderr and a non-zero exit, never a stack
 * trace; Ctrl-C or SIGTERM stops the run before anything is written (exit 130).
 *
 * The signal handlers are installed when this module is evaluated, so an entry point imports it first:
 * then a signal during the slow imports (tfjs) or while data is loading is not lost (without a handler
 * SIGTERM would kill the process outright, with no exit code of ours). Synchronous work such as reading
 * a data file cannot be interrupted; the signal is seen as soon as it ends, before training starts.
 */
import { UserError } from '../core/errors.ts';

export const EXIT = { ok: 0, bug: 1, usage: 2, diverged: 3, interrupted: 130 } as const;

const ac = new AbortController();
const onSignal = () => {
  if (ac.signal.aborted) process.exit(EXIT.interrupted); // second Ctrl-C: leave at once
  ac.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

/**
 * Lets the event loop run through its poll phase, where a signal that arrived during synchronous work
 * (reading the data) is delivered to the handlers above, then throws if the run was interrupted: call it
 * before starting long work. Two setImmediate turns: the first may fire before that poll phase.
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
      process.stderr.write('\ninterrupted: nothing was written\n');
      process.exitCode = EXIT.interrupted;
    } else if (e instanceof UserError) {
      process.stderr.write(`error: ${e.message}\n`);
      process.exitCode = EXIT.usage;
    } else {
      process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = EXIT.bug;
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
