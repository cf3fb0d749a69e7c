// The multi-stream MD5 addon (agent/digest/native/coffre_md5.c): built by the project's own scripts
// wherever the running Node ships its OpenSSL headers, hashing up to sixteen bodies per call byte
// for byte as Node's MD5 does, whatever the pieces' lengths and boundaries, refusing malformed
// calls, and refused by its own self-check when its kernel is wrong.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { loadNativeMd5, type NativeMd5, nativeMd5 } from '../../agent/digest/native-md5.ts';
import { buildNativeMd5 } from '../../scripts/build-native.ts';

const cpuFlags = readFileSync('/proc/cpuinfo', 'utf8');
const cpuHasAvx512 = /\bavx512f\b/.test(cpuFlags);
const cpuHasAvx2 = /\bavx2\b/.test(cpuFlags);
/** The widest kernel this CPU runs. */
const widest = cpuHasAvx512 ? 16 : cpuHasAvx2 ? 8 : 1;

function addon(): NativeMd5 {
  const md5 = nativeMd5();
  if (md5 === null) throw new Error('build/coffre_md5.node is not built (see the build test)');
  return md5;
}

/** A small deterministic generator, so a failure can be replayed. */
function generator(seed: number): (limit: number) => number {
  let state = seed >>> 0;
  return (limit) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % limit;
  };
}

test('build: the addon is built (or up to date) and loads, with sixteen lanes where the CPU has AVX-512, eight with AVX2', async (t) => {
  t.true(['built', 'up-to-date'].includes(await buildNativeMd5({ quiet: true })));
  t.is(addon().lanes, widest);
});

test('build: without a C compiler the build is skipped and resolves; a missing addon is no addon', async (t) => {
  t.is(await buildNativeMd5({ quiet: true, compiler: '/nonexistent/cc' }), 'skipped');
  t.is(loadNativeMd5('/nonexistent/coffre_md5.node'), undefined);
});

// Every kernel this machine runs (the AVX2 one too on an AVX-512 CPU), and one body at a time.
for (const lanes of [16, 8, 1].filter((width) => width <= widest)) {
  test(`${lanes > 1 ? `${lanes} lanes` : 'one at a time'}: 1 to 40 bodies of uneven lengths, cut at random, hash as Node's MD5`, (t) => {
    const md5 = addon();
    const random = generator(lanes);
    for (const count of [1, 2, 3, 16, 17, 40]) {
      // Empty, under a block, exact blocks, and up to ~300 KiB, so lanes drop out at different points.
      const bodies = Array.from({ length: count }, (_, index) =>
        randomBytes([0, 1, 63, 64, 65, 4096][index] ?? random(300 * 1024)),
      );
      const contexts = bodies.map(() => md5.create());
      const offsets = bodies.map(() => 0);
      while (offsets.some((offset, index) => offset < bodies[index].length)) {
        const pieces = bodies.map((body, index) => {
          const length = random(4) === 0 ? random(70) : random(96 * 1024);
          const piece = body.subarray(offsets[index], Math.min(body.length, offsets[index] + length));
          offsets[index] += piece.length;
          return piece;
        });
        md5.update(contexts, pieces, lanes);
      }
      for (const [index, body] of bodies.entries()) {
        t.deepEqual(
          Buffer.from(md5.digest(contexts[index])).toString('hex'),
          createHash('md5').update(body).digest('hex'),
          `${count} bodies, body ${index} of ${body.length} bytes`,
        );
      }
    }
  });
}

test('lanes: bodies past 4 GiB of bits keep a right length count (the 32-bit low word carries), in every kernel', (t) => {
  // 600 MiB per body crosses 2^32 bits at 512 MiB: the carry into the high word must happen in the
  // kernels as it does in OpenSSL.
  const md5 = addon();
  const block = randomBytes(8 * 1024 * 1024);
  const pieces = [block, block.subarray(0, block.length - 1)];
  const reference = pieces.map(() => createHash('md5'));
  for (let index = 0; index < 75; index += 1)
    for (const [body, piece] of pieces.entries()) reference[body].update(piece);
  const expected = reference.map((hash) => hash.digest('hex'));
  for (const lanes of [16, 8].filter((width) => width <= widest)) {
    const contexts = pieces.map(() => md5.create());
    for (let index = 0; index < 75; index += 1) md5.update(contexts, pieces, lanes);
    t.deepEqual(
      contexts.map((context) => Buffer.from(md5.digest(context)).toString('hex')),
      expected,
      `${lanes} lanes`,
    );
  }
});

test('malformed calls throw instead of touching memory they were not given', (t) => {
  const md5 = addon();
  const context = md5.create();
  t.throws(() => md5.update([{ state: new Uint8Array(8) }], [new Uint8Array(1)]), {
    message: /contextBytes/,
  });
  t.throws(() => md5.update([context], [new Uint8Array(1)], 4), { message: /1, 8 or 16/ });
  if (widest < 16) t.throws(() => md5.update([context], [new Uint8Array(1)], 16), { message: /no kernel/ });
  t.throws(() => md5.update([context, context], [new Uint8Array(1), new Uint8Array(1)]), {
    message: /twice/,
  });
  t.throws(() => md5.update([context], []), { message: /as long as contexts/ });
  t.throws(() => md5.update([context], [new Uint16Array(4) as unknown as Uint8Array]), {
    message: /not a Uint8Array/,
  });
  t.throws(() => md5.digest({ state: new Uint8Array(md5.create().state.length + 1) }), {
    message: /contextBytes/,
  });
  // More than sixteen go through in several calls of the addon, never one.
  const many = Array.from({ length: 33 }, () => md5.create());
  md5.update(
    many,
    many.map(() => new Uint8Array(200)),
  );
  t.is(
    Buffer.from(md5.digest(many[32])).toString('hex'),
    createHash('md5').update(new Uint8Array(200)).digest('hex'),
  );
});

test('self-check: a build whose lanes hash wrongly does not load, so no ETag comes from it', async (t) => {
  const directory = mkdtempSync(join(tmpdir(), 'coffre-md5-'));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  const faulty = join(directory, 'faulty.node');
  t.is(
    await buildNativeMd5({ quiet: true, outputPath: faulty, extraFlags: ['-DCOFFRE_MD5_FAULTY_LANES'] }),
    'built',
  );
  // The fault is in the lanes, which only a CPU with AVX-512 or AVX2 runs; elsewhere the build is
  // sound.
  if (widest > 1) t.is(loadNativeMd5(faulty), undefined);
  else t.truthy(loadNativeMd5(faulty));
  const sound = join(directory, 'sound.node');
  t.is(await buildNativeMd5({ quiet: true, outputPath: sound }), 'built');
  t.is(loadNativeMd5(sound)?.path, sound);
});
