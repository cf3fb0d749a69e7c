// The native kernel's build never fails an install: without a compiler it is skipped, and the
// codec still works with its portable kernels.
import { existsSync } from 'node:fs';
import test from 'ava';
import { buildNativeKernel } from '../../scripts/build-native.ts';

test('build-native: without a C compiler the build is skipped and resolves, never throws', async (t) => {
  t.is(await buildNativeKernel({ quiet: true, compiler: '/nonexistent/cc' }), 'skipped');
});

if (existsSync('/usr/include/isa-l.h')) {
  test('build-native: with cc and ISA-L the addon is built (or already up to date) and the isa-l kernel loads', async (t) => {
    t.true(['built', 'up-to-date'].includes(await buildNativeKernel({ quiet: true })));
    const { availableKernels } = await import('../../agent/erasure/index.ts');
    t.is(availableKernels()[0], 'isa-l');
  });
}
