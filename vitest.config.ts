import { defineConfig } from 'vitest/config';
import type { Reporter, TestModule } from 'vitest/node';

/** Adds one plain closing line, `tests: N passed, N failed, N skipped`, that any CI log reader understands. */
class PlainSummary implements Reporter {
  private line = '';
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const n = { passed: 0, failed: 0, skipped: 0 };
    for (const m of modules)
      for (const t of m.children.allTests()) {
        const s = t.result().state;
        if (s === 'passed') n.passed++;
        else if (s === 'failed') n.failed++;
        else n.skipped++;
      }
    this.line = `tests: ${n.passed} passed, ${n.failed} failed, ${n.skipped} skipped`;
  }
  // after the default reporter's summary, so it is the last line of the run
  onFinished(): void {
    if (this.line) process.stdout.write(`${this.line}\n`);
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    // Numerical tests on full MNIST batches and tfjs backends are slow-ish; 2 cores here.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    reporters: ['default', new PlainSummary()],
  },
});
