// The native kernel's build never fails an install: without a compiler it is skipped, and the
// codec still works with its portable kernels.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { ReedSolomonCodec } from '../../agent/erasure/codec.ts';
import { loadIsalKernel } from '../../agent/erasure/kernels/isa-l.ts';
import { javascriptKernel } from '../../agent/erasure/kernels/js.ts';
import { buildNativeKernel } from '../../scripts/build-native.ts';
import { seededRandom } from './random.ts';

test('build-native: without a C compiler the build is skipped and resolves, never throws', async (t) => {
  t.is(await buildNativeKernel({ quiet: true, compiler: '/nonexistent/cc' }), 'skipped');
});

test('build-native: an output path that cannot be written makes the build fail and resolve, never throw', async (t) => {
  const directory = mkdtempSync(join(tmpdir(), 'coffre-isal-'));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  const aFile = join(directory, 'not-a-directory');
  writeFileSync(aFile, '');
  const outcome = await buildNativeKernel({ quiet: true, outputPath: join(aFile, 'coffre_isal.node') });
  t.true(['failed', 'skipped'].includes(outcome), outcome);
});

if (existsSync('/usr/include/isa-l.h')) {
  test('build-native: with cc and ISA-L the addon is built (or already up to date) and the isa-l kernel loads', async (t) => {
    t.true(['built', 'up-to-date'].includes(await buildNativeKernel({ quiet: true })));
    const { availableKernels } = await import('../../agent/erasure/index.ts');
    t.is(availableKernels()[0], 'isa-l');
  });
}

if (existsSync('/usr/include/isa-l.h')) {
  test('build-native: an addon built with 4 KiB ISA-L slices encodes 3-slice shards like the reference', async (t) => {
    const directory = mkdtempSync(join(tmpdir(), 'coffre-isal-'));
    const outputPath = join(directory, 'coffre_isal_small_slices.node');
    t.teardown(() => rmSync(directory, { recursive: true, force: true }));
    t.is(await buildNativeKernel({ quiet: true, outputPath, extraFlags: ['-DSLICE_BYTES=4096'] }), 'built');
    const kernel = loadIsalKernel(outputPath);
    t.truthy(kernel);
    const random = seededRandom(4096);
    const lengthBytes = 3 * 4096 + 17;
    const data = Array.from({ length: 5 }, () => random.bytes(lengthBytes));
    const encode = (codec: ReedSolomonCodec): Uint8Array[] => {
      const parity = Array.from({ length: 3 }, () => new Uint8Array(lengthBytes));
      codec.encode(data, parity);
      return parity;
    };
    t.deepEqual(
      encode(new ReedSolomonCodec(5, 3, kernel!)),
      encode(new ReedSolomonCodec(5, 3, javascriptKernel)),
    );
  });
}
