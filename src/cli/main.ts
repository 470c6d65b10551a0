/**
 * What every entry point shares: user errors become one line on stderr and a non-zero exit, never a stack
 * trace; Ctrl-C stops the run before anything is written.
 */
import { UserError } from '../core/errors.ts';

export const EXIT = { ok: 0, bug: 1, usage: 2, diverged: 3, interrupted: 130 } as const;

export async function main(run: (signal: AbortSignal) => Promise<number>): Promise<void> {
  const ac = new AbortController();
  const onSigint = () => {
    if (ac.signal.aborted) process.exit(EXIT.interrupted); // second Ctrl-C: leave at once
    ac.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  try {
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
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}
