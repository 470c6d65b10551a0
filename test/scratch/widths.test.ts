// Every activation × hidden widths 1, 10, 128 (and a two-hidden-layer net): scratch vs the float64
// reference (itself checked against finite differences in reference.test.ts), and scratch vs tfjs on cpu
// and wasm.
import { describe, it } from 'vitest';
import { initParams } from '../../src/core/init.ts';
import { ACTIVATIONS, netSizes } from '../../src/core/types.ts';
import { gradients } from '../../src/scratch/index.ts';
import { gradients64, to64 } from '../../src/scratch/reference64.ts';
import { initBackend } from '../../src/tfjs/backend.ts';
import { gradients as tfjsGradients } from '../../src/tfjs/index.ts';
import { expectAgree, mnistSlice } from '../helpers/index.ts';

const batch = mnistSlice(700, 64);
const NETS = [[1], [10], [128], [37, 13]];

describe('scratch gradients for every activation and width, vs float64', () => {
  for (const act of ACTIVATIONS)
    for (const hidden of NETS)
      it(`${act}, hidden ${hidden.join(',')}`, () => {
        for (const init of ['uniform', 'he'] as const) {
          const p = initParams(hidden[0], netSizes(hidden), init);
          expectAgree(gradients(p, batch, { activation: act }).grads, gradients64(to64(p), batch, { activation: act }).grads, `${act}/${hidden}/${init}`);
        }
      });
});

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`scratch vs tfjs (${backend}) for every activation and width`, () => {
    for (const act of ACTIVATIONS)
      it(`${act}, hidden ${NETS.map((n) => n.join(',')).join(' / ')}`, async () => {
        await initBackend(backend);
        for (const hidden of NETS) {
          const p = initParams(hidden[0] + 100, netSizes(hidden), 'he');
          const t = await tfjsGradients(p, batch, { activation: act });
          expectAgree(gradients(p, batch, { activation: act }).grads, t.grads, `${backend}/${act}/${hidden}`);
        }
      });
  });
}
