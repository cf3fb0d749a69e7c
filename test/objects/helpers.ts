// Shared set-up for the object layer's tests: a layer over the real erasure set (six drive
// folders in a temporary directory, k=4 m=2) or over the in-memory twin, with an injectable clock.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { type ObjectLayer, openObjectLayer } from '../../agent/objects/object-layer.ts';
import type { ErasureSetContract } from '../../agent/objects/store.ts';
import { openErasureSet } from '../../agent/shards/index.ts';
import { MemoryErasureSet } from './memory-erasure-set.ts';

export type StoreKind = 'real' | 'memory';
export const storeKinds: StoreKind[] = ['real', 'memory'];

export interface TestClock {
  now: () => number;
  advance: (milliseconds: number) => void;
  set: (milliseconds: number) => void;
}

export function testClock(startMs = Date.UTC(2026, 0, 1)): TestClock {
  let nowMs = startMs;
  return {
    now: () => nowMs,
    advance: (milliseconds) => {
      nowMs += milliseconds;
    },
    set: (milliseconds) => {
      nowMs = milliseconds;
    },
  };
}

export interface Harness {
  layer: ObjectLayer;
  store: ErasureSetContract;
  memory: MemoryErasureSet | null;
  directory: string;
  indexPath: string;
  clock: TestClock;
  /** Closes the layer and opens a new one on the same store and index path. */
  reopen: () => Promise<ObjectLayer>;
}

export async function openHarness(t: ExecutionContext, kind: StoreKind = 'memory'): Promise<Harness> {
  const directory = await mkdtemp(join(tmpdir(), 'coffre-objects-'));
  const clock = testClock();
  let store: ErasureSetContract;
  let memory: MemoryErasureSet | null = null;
  if (kind === 'real') {
    const drives = [];
    for (let index = 0; index < 6; index += 1) {
      const drive = join(directory, `drive-${index}`);
      await mkdir(drive);
      drives.push(drive);
    }
    store = await openErasureSet({ drives, blockSizeBytes: 64 * 1024, inlineThresholdBytes: 4 * 1024 });
  } else {
    memory = new MemoryErasureSet();
    store = memory;
  }
  const indexPath = join(directory, 'objects-index.sqlite');
  const harness: Harness = {
    layer: await openObjectLayer({ store, indexPath, clock: clock.now, nodeId: '0000c0f1' }),
    store,
    memory,
    directory,
    indexPath,
    clock,
    reopen: async () => {
      harness.layer.close();
      harness.layer = await openObjectLayer({ store, indexPath, clock: clock.now, nodeId: '0000c0f1' });
      return harness.layer;
    },
  };
  t.teardown(async () => {
    harness.layer.close();
    await store.close();
    await rm(directory, { recursive: true, force: true });
  });
  return harness;
}

export async function* bodyOf(...chunks: (string | Uint8Array)[]): AsyncIterable<Uint8Array> {
  for (const chunk of chunks) yield typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
}

export async function readAll(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

export async function readText(body: AsyncIterable<Uint8Array>): Promise<string> {
  return (await readAll(body)).toString('utf8');
}

/** Deterministic bytes (a simple LCG), so a test can check content without storing it twice. */
export function patternBytes(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length);
  let state = seed >>> 0;
  for (let index = 0; index < length; index += 1) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    bytes[index] = state >>> 24;
  }
  return bytes;
}

export const tenant = 'tenant-a';

/** Creates the test tenant's bucket `name`; returns its id, which the rest of the layer takes. */
export async function createBucket(
  harness: Harness,
  name: string,
  options: { versioning?: 'Enabled' | 'Suspended' } = {},
): Promise<string> {
  const { id } = await harness.layer.buckets.create({ name, ownerTenantId: tenant });
  if (options.versioning) await harness.layer.buckets.setVersioning(id, options.versioning);
  return id;
}
