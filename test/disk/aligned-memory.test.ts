// The aligned memory addon (agent/disk/native/coffre_aligned.c): built by the project's own scripts
// wherever a C compiler is, handing out buffers that start on a 4096-byte boundary, refusing bad
// arguments, releasing its memory once the buffers are collected, and, on a file system that has
// O_DIRECT, making the direct writes work that Node's own buffers get refused.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test, { type ExecutionContext } from 'ava';
import {
  type AlignedMemory,
  alignedMemoryPath,
  directIoAlignment,
  loadAlignedMemory,
} from '../../agent/disk/aligned-memory.ts';
import { buildNativeAligned, type NativeBuildOutcome } from '../../scripts/build-native.ts';

const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));
const mebibyte = 1024 * 1024;

let outcome: NativeBuildOutcome;
let loaded: AlignedMemory | undefined;

test.before(async () => {
  outcome = await buildNativeAligned({ quiet: true });
  loaded = loadAlignedMemory();
});

function memory(): AlignedMemory {
  if (loaded === undefined) throw new Error(`${alignedMemoryPath} is not built (see the build test)`);
  return loaded;
}

/** A directory of its own under the repository's git-ignored .tmp/: /tmp may be a tmpfs, which has no O_DIRECT. */
async function temporaryDirectory(t: ExecutionContext): Promise<string> {
  await mkdir(join(repositoryRoot, '.tmp'), { recursive: true });
  const directory = await mkdtemp(join(repositoryRoot, '.tmp', 'coffre-direct-io-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  return directory;
}

test('build: the addon is built (or up to date) by the project build script and passes its load check', (t) => {
  t.true(['built', 'up-to-date'].includes(outcome), outcome);
  t.is(memory().path, alignedMemoryPath);
});

test('build: without a C compiler the build is skipped and resolves; a missing or foreign file is no addon', async (t) => {
  t.is(await buildNativeAligned({ quiet: true, compiler: '/nonexistent/cc' }), 'skipped');
  t.is(loadAlignedMemory('/nonexistent/coffre_aligned.node'), undefined);
  const directory = await temporaryDirectory(t);
  const notAnAddon = join(directory, 'not-an-addon.node');
  await writeFile(notAnAddon, 'text');
  t.is(loadAlignedMemory(notAnAddon), undefined);
});

test('allocate: 1 byte, 4096 bytes and 1 MiB + 3 bytes start on a 4096-byte boundary and keep every byte written', (t) => {
  for (const bytes of [1, directIoAlignment, mebibyte + 3]) {
    const buffer = memory().allocate(bytes);
    t.true(Buffer.isBuffer(buffer));
    t.is(buffer.length, bytes);
    t.is(buffer.buffer.byteLength, bytes, 'the Buffer covers its whole ArrayBuffer');
    t.is(memory().misalignment(buffer), 0, `${bytes} bytes`);
    const content = randomBytes(bytes);
    buffer.set(content);
    t.true(buffer.equals(content), `${bytes} bytes`);
    if (bytes > 1) t.is(memory().misalignment(buffer.subarray(5)), 5);
  }
});

test('allocate and misalignment: bad arguments throw TypeError or RangeError, an impossible size an Error', (t) => {
  const addon = createRequire(import.meta.url)(alignedMemoryPath) as {
    allocate(...values: unknown[]): ArrayBuffer;
    misalignment(...values: unknown[]): number;
  };
  for (const bytes of [1.5, '4096', Number.NaN, Number.POSITIVE_INFINITY, 4096n, undefined]) {
    t.throws(() => addon.allocate(bytes, 4096), { instanceOf: TypeError }, String(bytes));
  }
  for (const bytes of [0, -4096, 2 ** 53]) {
    t.throws(() => addon.allocate(bytes, 4096), { instanceOf: RangeError }, String(bytes));
  }
  t.throws(() => addon.allocate(4096), { instanceOf: TypeError, message: /allocate\(bytes, alignment\)/ });
  t.throws(() => addon.allocate(4096, 4096.5), { instanceOf: TypeError });
  for (const alignment of [0, 4, 3, 4095, 2 * mebibyte]) {
    t.throws(() => addon.allocate(4096, alignment), { instanceOf: RangeError }, String(alignment));
  }
  t.is(new Uint8Array(addon.allocate(8, mebibyte)).length, 8, 'the largest alignment is allowed');
  t.is(addon.misalignment(new Uint8Array(addon.allocate(8, mebibyte)), mebibyte), 0);
  // 4 PiB is past any machine's address space: posix_memalign refuses it, and the addon throws.
  t.throws(() => memory().allocate(2 ** 52), { instanceOf: Error, message: /posix_memalign/ });
  t.throws(() => addon.misalignment(new Uint16Array(4), 4096), { instanceOf: TypeError });
  t.throws(() => addon.misalignment(new ArrayBuffer(4), 4096), { instanceOf: TypeError });
  t.throws(() => addon.misalignment(new Uint8Array(4), 4095), { instanceOf: RangeError });
});

/**
 * In a process of its own: 2,000 buffers of 1 MiB, each filled (so its pages are resident) and
 * dropped, with the event loop turning between them as a shard writer's would; the resident set
 * must stay far below the 2,000 MiB that leaked buffers would hold, which also shows the garbage
 * collector sees the memory behind those small Buffer objects. Then, with --expose-gc, 64 MiB held
 * shows in process.memoryUsage().external and is gone after a collection.
 */
const churnScript = `
import { setImmediate as turn } from 'node:timers/promises';
const { loadAlignedMemory } = await import(process.env.LOADER_URL);
const memory = loadAlignedMemory(process.env.ADDON_PATH);
const startRssBytes = process.memoryUsage().rss;
let peakRssGrowthBytes = 0;
for (let index = 0; index < 2000; index += 1) {
  memory.allocate(${mebibyte}).fill(index & 0xff);
  await turn();
  peakRssGrowthBytes = Math.max(peakRssGrowthBytes, process.memoryUsage().rss - startRssBytes);
}
const settle = async () => { for (let round = 0; round < 3; round += 1) { globalThis.gc(); await turn(); } };
await settle();
const baseExternalBytes = process.memoryUsage().external;
let held = Array.from({ length: 64 }, () => memory.allocate(${mebibyte}));
const heldExternalBytes = process.memoryUsage().external - baseExternalBytes;
held = undefined;
await settle();
const releasedExternalBytes = process.memoryUsage().external - baseExternalBytes;
console.log(JSON.stringify({ peakRssGrowthBytes, heldExternalBytes, releasedExternalBytes }));
`;

test('release: 2,000 buffers of 1 MiB, dropped one after another, leave the resident set bounded and the external memory released', async (t) => {
  memory();
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--expose-gc', '--input-type=module', '--eval', churnScript],
    {
      env: {
        ...process.env,
        LOADER_URL: new URL('../../agent/disk/aligned-memory.ts', import.meta.url).href,
        ADDON_PATH: alignedMemoryPath,
      },
    },
  );
  const result = JSON.parse(stdout) as {
    peakRssGrowthBytes: number;
    heldExternalBytes: number;
    releasedExternalBytes: number;
  };
  t.log(`peak RSS growth ${(result.peakRssGrowthBytes / mebibyte).toFixed(0)} MiB of 2000 MiB allocated`);
  t.true(result.peakRssGrowthBytes < 512 * mebibyte, `${result.peakRssGrowthBytes} bytes`);
  t.true(result.heldExternalBytes >= 64 * mebibyte, `${result.heldExternalBytes} bytes while held`);
  t.true(result.releasedExternalBytes < 8 * mebibyte, `${result.releasedExternalBytes} bytes after release`);
});

/** The file opened with O_DIRECT, or undefined (and why) where its file system refuses it. */
async function openDirect(t: ExecutionContext, path: string, flags: number): Promise<FileHandle | undefined> {
  try {
    return await open(path, constants.O_DIRECT | flags, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EINVAL') throw error;
    t.log(`${path}: this file system has no O_DIRECT (EINVAL on open); checking the buffered path only`);
    return undefined;
  }
}

test('O_DIRECT: three aligned buffers of 4096-byte multiples are written with writev and read back; an unaligned one is refused with EINVAL', async (t) => {
  const path = join(await temporaryDirectory(t), 'shard.bin');
  const lengths = [directIoAlignment, 3 * directIoAlignment, 64 * directIoAlignment];
  const buffers = lengths.map((bytes) => {
    const buffer = memory().allocate(bytes);
    buffer.set(randomBytes(bytes));
    return buffer;
  });
  const expected = Buffer.concat(buffers);
  const writer = await openDirect(t, path, constants.O_WRONLY | constants.O_CREAT);
  if (writer === undefined) {
    const buffered = await open(path, constants.O_WRONLY | constants.O_CREAT, 0o600);
    t.is((await buffered.writev(buffers, 0)).bytesWritten, expected.length);
    await buffered.close();
    t.true((await readFile(path)).equals(expected));
    return;
  }
  try {
    t.is((await writer.writev(buffers, 0)).bytesWritten, expected.length);
    // The same bytes from Node's allocator, one byte into its memory: the kernel refuses it.
    const unaligned = Buffer.allocUnsafeSlow(directIoAlignment + 1).subarray(1);
    t.not(memory().misalignment(unaligned), 0);
    await t.throwsAsync(writer.write(unaligned, 0, unaligned.length, expected.length), { code: 'EINVAL' });
    // An aligned address with a length off the block size is refused too.
    await t.throwsAsync(writer.write(buffers[0], 0, directIoAlignment - 1, expected.length), {
      code: 'EINVAL',
    });
  } finally {
    await writer.close();
  }
  const reader = await openDirect(t, path, constants.O_RDONLY);
  t.truthy(reader, 'a file system that takes direct writes takes direct reads');
  try {
    const readBack = memory().allocate(expected.length);
    t.is((await reader!.read(readBack, 0, readBack.length, 0)).bytesRead, expected.length);
    t.true(readBack.equals(expected));
  } finally {
    await reader?.close();
  }
  t.true((await readFile(path)).equals(expected), 'the refused writes left the file as it was');
});
