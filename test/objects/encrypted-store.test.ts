import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { parseCustomerKey } from '../../agent/crypto/customer-key.ts';
import { isCryptoError } from '../../agent/crypto/errors.ts';
import { LocalKeyProvider } from '../../agent/crypto/key-provider.ts';
import { ObjectEncryption } from '../../agent/crypto/object-encryption.ts';
import { TenantKeyring } from '../../agent/crypto/tenant-keyring.ts';
import { LocalDrive } from '../../agent/disk/index.ts';
import { EncryptedStore, envelopeProperty } from '../../agent/objects/encrypted-store.ts';
import type { ByteRange, ErasureSetContract, VersionAddress } from '../../agent/objects/store.ts';
import { openErasureSet } from '../../agent/shards/index.ts';
import { bodyOf, patternBytes, readAll } from './helpers.ts';
import { MemoryErasureSet } from './memory-erasure-set.ts';

const chunkSizeBytes = 4096;

async function harness(t: ExecutionContext, kind: 'memory' | 'real') {
  const directory = await mkdtemp(join(tmpdir(), 'coffre-encrypted-store-'));
  const keyDirectory = join(directory, 'keys');
  await mkdir(keyDirectory);
  let inner: ErasureSetContract;
  const memory = kind === 'memory' ? new MemoryErasureSet() : null;
  const drives: string[] = [];
  if (memory !== null) inner = memory;
  else {
    for (let index = 0; index < 6; index += 1) {
      drives.push(join(directory, `drive-${index}`));
      await mkdir(drives[index]);
    }
    inner = await openErasureSet({ drives, blockSizeBytes: 64 * 1024, inlineThresholdBytes: 4 * 1024 });
  }
  const reads: (ByteRange | undefined)[] = [];
  const spied: ErasureSetContract = {
    writeVersion: (at, body, options) => inner.writeVersion(at, body, options),
    statVersion: (at) => inner.statVersion(at),
    readVersion: (at, range) => {
      reads.push(range);
      return inner.readVersion(at, range);
    },
    updateMetadata: (at, update) => inner.updateMetadata(at, update),
    deleteVersion: (at) => inner.deleteVersion(at),
    listVersions: (options) => inner.listVersions(options),
    close: () => inner.close(),
  };
  const keyring = new TenantKeyring({
    provider: new LocalKeyProvider([randomBytes(32)]),
    drive: new LocalDrive(keyDirectory),
  });
  const store = new EncryptedStore(spied, {
    encryption: new ObjectEncryption({ keyring, chunkSizeBytes }),
    keySourceOf: () => ({ tenantId: 'tenant-a' }),
  });
  t.teardown(async () => {
    await inner.close();
    await rm(directory, { recursive: true, force: true });
  });
  return { store, inner, memory, reads, drives };
}

const address: VersionAddress = { bucket: 'vault', key: 'backups/block-0001', versionId: '0000000000000001' };

async function write(store: EncryptedStore, bytes: Buffer, extra: object = {}) {
  return store.writeVersion(address, bodyOf(bytes), { finalize: () => ({ owner: 'layer' }), ...extra });
}

async function filesContaining(root: string, needle: Buffer): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(root, { recursive: true })) {
    const path = join(root, entry);
    if ((await stat(path)).isFile() && (await readFile(path)).includes(needle)) found.push(path);
  }
  return found;
}

for (const kind of ['memory', 'real'] as const) {
  test(`encrypted store (${kind}): plaintext in, plaintext out, plaintext sizes; the store below holds ciphertext`, async (t) => {
    const { store, inner, drives } = await harness(t, kind);
    const plaintext = patternBytes(100_000, 7);
    const written = await write(store, plaintext);
    t.is(written.sizeBytes, plaintext.length);
    t.deepEqual(written.metadata, { owner: 'layer' });
    const below = await inner.statVersion(address);
    t.true(below!.sizeBytes > plaintext.length);
    t.is(typeof below!.metadata[envelopeProperty], 'object');
    const { version, body } = await store.readVersion(address);
    t.is(version.sizeBytes, plaintext.length);
    t.deepEqual(await readAll(body), plaintext);
    const innerBytes = await readAll((await inner.readVersion(address)).body);
    t.false(innerBytes.includes(plaintext.subarray(50_000, 50_032)));
    for (const drive of drives)
      t.deepEqual(await filesContaining(drive, plaintext.subarray(20_000, 20_032)), []);
  });

  test(`encrypted store (${kind}): a range reads only the chunks that cover it`, async (t) => {
    const { store, reads } = await harness(t, kind);
    const plaintext = patternBytes(10 * chunkSizeBytes + 100, 8);
    await write(store, plaintext);
    reads.length = 0;
    const { body } = await store.readVersion(address, { offsetBytes: 5000, lengthBytes: 4000 });
    t.deepEqual(await readAll(body), plaintext.subarray(5000, 9000));
    t.deepEqual(reads, [{ offsetBytes: chunkSizeBytes + 16, lengthBytes: 2 * (chunkSizeBytes + 16) }]);
  });

  test(`encrypted store (${kind}): metadata updates keep the envelope, so the version still reads`, async (t) => {
    const { store, inner } = await harness(t, kind);
    const plaintext = patternBytes(9000, 9);
    await write(store, plaintext);
    // A careless update that drops every property still cannot drop the envelope.
    const updated = await store.updateMetadata(address, () => ({ replaced: true }));
    t.deepEqual(updated.metadata, { replaced: true });
    t.is(typeof (await inner.statVersion(address))!.metadata[envelopeProperty], 'object');
    t.deepEqual(await readAll((await store.readVersion(address)).body), plaintext);
    const listed = [];
    for await (const version of store.listVersions({ bucket: 'vault' })) listed.push(version);
    t.deepEqual(
      listed.map((version) => [version.sizeBytes, version.metadata]),
      [[9000, { replaced: true }]],
    );
  });
}

test('encrypted store: a byte altered below is detected on read and no plaintext of its chunk comes out', async (t) => {
  const { store, memory } = await harness(t, 'memory');
  const plaintext = patternBytes(3 * chunkSizeBytes, 10);
  await write(store, plaintext);
  const entry = [...memory!.entries.values()][0];
  entry.data[chunkSizeBytes + 16 + 100] ^= 0x01;
  const { body } = await store.readVersion(address);
  const received: Buffer[] = [];
  const error = await t.throwsAsync(async () => {
    for await (const piece of body) received.push(Buffer.from(piece));
  });
  t.true(isCryptoError(error, 'TAMPERED'));
  t.deepEqual(Buffer.concat(received), plaintext.subarray(0, chunkSizeBytes));
});

test('encrypted store: a version whose envelope was removed below is refused, not read as plaintext', async (t) => {
  const { store, memory } = await harness(t, 'memory');
  await write(store, patternBytes(100, 11));
  const entry = [...memory!.entries.values()][0];
  delete entry.version.metadata[envelopeProperty];
  t.true(isCryptoError(await t.throwsAsync(store.readVersion(address)), 'TAMPERED'));
});

test('encrypted store: an SSE-C version reads only with its customer key', async (t) => {
  const { store } = await harness(t, 'memory');
  const key = randomBytes(32);
  const customerKey = parseCustomerKey({
    algorithm: 'AES256',
    key: key.toString('base64'),
    keyMd5: createHash('md5').update(key).digest('base64'),
  });
  const plaintext = patternBytes(20_000, 12);
  await write(store, plaintext, { keySource: { tenantId: 'tenant-a', customerKey } });
  t.true(isCryptoError(await t.throwsAsync(store.readVersion(address)), 'CUSTOMER_KEY_MISMATCH'));
  t.deepEqual(await readAll((await store.readVersion(address, undefined, { customerKey })).body), plaintext);
  const ranged = await store.readVersion(address, { offsetBytes: 10, lengthBytes: 10 }, { customerKey });
  t.deepEqual(await readAll(ranged.body), plaintext.subarray(10, 20));
});

test('encrypted store: a range of a missing version is NOT_FOUND as the store contract says', async (t) => {
  const { store } = await harness(t, 'memory');
  const error = await t.throwsAsync(store.readVersion(address, { offsetBytes: 0, lengthBytes: 1 }));
  t.is((error as { code?: string }).code, 'NOT_FOUND');
});
