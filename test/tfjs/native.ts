/**
 * The tfjs backends the backend-parametrised tests run on: wasm and cpu always; 'tensorflow' (the native
 * binding, @tensorflow/tfjs-node) when it loads here, else its tests are skipped with the reason in their name
 * (`npm run setup:native` builds it where its own install failed).
 */
import { UserError } from '../../src/core/errors.ts';
import type { BackendName } from '../../src/core/backends.ts';
import { initBackend } from '../../src/tfjs/backend.ts';

/** Why the native backend is not usable here, or null when it is. */
export const nativeMissing: string | null = await (async () => {
  try {
    await initBackend('tensorflow');
    return null;
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return e.message.replace(/^backend 'tensorflow' is not available: /, '');
  }
})();

export interface TestBackend {
  name: BackendName;
  /** how the backend appears in test names: with the skip reason when it is skipped */
  label: string;
  skip: boolean;
}

export const TEST_BACKENDS: TestBackend[] = [
  { name: 'wasm', label: 'wasm', skip: false },
  { name: 'cpu', label: 'cpu', skip: false },
  {
    name: 'tensorflow',
    label: nativeMissing == null ? 'tensorflow (native)' : `tensorflow (native; skipped: ${nativeMissing}; npm run setup:native builds it)`,
    skip: nativeMissing != null,
  },
];
