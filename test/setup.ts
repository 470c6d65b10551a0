// Loaded before every test file (vitest.config.ts, setupFiles). Yields to the event loop before each test:
// most tests here are synchronous numerical work, and vitest's worker answers its parent's messages only
// between macrotasks, so a file whose tests together block for more than a minute (test/simd/gradients
// took 58–72 s) failed the run with "Timeout calling onTaskUpdate" although every test passed.
import { beforeEach } from 'vitest';

beforeEach(() => new Promise<void>((resolve) => setImmediate(resolve)));
