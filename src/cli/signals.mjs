// Loaded by `node --import ./src/cli/signals.mjs` before anything else (before tsx, which takes seconds on
// a busy machine, and before tfjs is loaded): from here on Ctrl-C and SIGTERM are handled, never the
// default action (exit 143). Until an entry point takes them over (src/cli/main.ts sets `owner`), nothing
// has been written, so a signal ends the process at once with exit 130. Plain JavaScript: it runs before
// the TypeScript loader exists.
//
// It also watches the parent: `npm run` starts `sh -c "node …"`, and when npm is killed it forwards the
// signal to sh, which dies without passing it on; node would be left running (adopted by init) and would
// write its report later. A changed process.ppid counts as SIGTERM.
const KEY = Symbol.for('mnist-duel.signals');
const state = (globalThis[KEY] ??= { owner: null, installed: false });
if (!state.installed) {
  state.installed = true;
  const onSignal = (signal) => {
    if (state.owner) return state.owner(signal);
    process.stderr.write('\ninterrupted: nothing was written\n');
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const parent = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(watch);
    // the terminal or pipe that read our output may be gone with the parent: never fail on writing to it
    process.stdout.on('error', () => {});
    process.stderr.on('error', () => {});
    onSignal('SIGTERM');
  }, 200);
  watch.unref();
  // a test hook: say when the handlers are in place, so a test can signal at that very moment
  if (process.env.MNIST_DUEL_TEST_SIGNALS_READY) process.stderr.write('signals ready\n');
}
