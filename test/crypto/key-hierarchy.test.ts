import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { parseCustomerKey } from '../../agent/crypto/customer-key.ts';
import { isCryptoError } from '../../agent/crypto/errors.ts';
import {
  LocalKeyProvider,
  loadLocalKeyProvider,
  masterKeyId,
  parseMasterKeys,
} from '../../agent/crypto/key-provider.ts';
import { ObjectEncryption } from '../../agent/crypto/object-encryption.ts';
import { TenantKeyring } from '../../agent/crypto/tenant-keyring.ts';
import { collect, collectUntilError, encryptionHarness, piecesOf, temporaryDrive } from './helpers.ts';

async function sealBytes(
  encryption: ObjectEncryption,
  plaintext: Buffer,
  source: Parameters<ObjectEncryption['seal']>[0],
) {
  const sealed = await encryption.seal(source);
  return { envelope: sealed.envelope, ciphertext: await collect(sealed.encrypt(piecesOf(plaintext, 1000))) };
}

async function openBytes(
  encryption: ObjectEncryption,
  stored: Awaited<ReturnType<typeof sealBytes>>,
  sizeBytes: number,
  customerKey?: ReturnType<typeof parseCustomerKey>,
): Promise<Buffer> {
  const opened = await encryption.open(stored.envelope, customerKey);
  const plan = opened.plan(null, sizeBytes);
  return collect(opened.decrypt(piecesOf(stored.ciphertext, 4096), plan));
}

function customerHeaders(key: Buffer) {
  return {
    algorithm: 'AES256',
    key: key.toString('base64'),
    keyMd5: createHash('md5').update(key).digest('base64'),
  };
}

test('object encryption: each version gets its own data key and nonce prefix; both read back', async (t) => {
  const { encryption } = await encryptionHarness(t, { chunkSizeBytes: 4096 });
  const plaintext = randomBytes(10_000);
  const first = await sealBytes(encryption, plaintext, { tenantId: 'acme' });
  const second = await sealBytes(encryption, plaintext, { tenantId: 'acme' });
  t.not(first.envelope.noncePrefix, second.envelope.noncePrefix);
  t.notDeepEqual(first.ciphertext, second.ciphertext);
  t.is(first.envelope.chunkSizeBytes, 4096);
  t.deepEqual(await openBytes(encryption, first, plaintext.length), plaintext);
  t.deepEqual(await openBytes(encryption, second, plaintext.length), plaintext);
});

test('object encryption: the envelope holds no data key in the clear and editing it fails to open', async (t) => {
  const { encryption } = await encryptionHarness(t, { chunkSizeBytes: 4096 });
  const stored = await sealBytes(encryption, randomBytes(5000), { tenantId: 'acme' });
  const edited = { ...stored, envelope: { ...stored.envelope, chunkSizeBytes: 2048 } };
  const error = await t.throwsAsync(encryption.open(edited.envelope));
  t.true(isCryptoError(error, 'TAMPERED'));
  const otherTenant = { ...stored.envelope, dataKey: { ...stored.envelope.dataKey, tenantId: 'other' } };
  t.true(
    isCryptoError(
      await t.throwsAsync(encryption.open(otherTenant as typeof stored.envelope)),
      'KEY_NOT_FOUND',
    ),
  );
});

test('master key rotation: tenant keys are rewrapped, old objects still read, and the old master key is no longer needed', async (t) => {
  const drive = await temporaryDrive(t);
  const oldMaster = randomBytes(32);
  const newMaster = randomBytes(32);
  const before = new TenantKeyring({ provider: new LocalKeyProvider([oldMaster]), drive });
  const plaintext = randomBytes(3000);
  const stored = await sealBytes(new ObjectEncryption({ keyring: before, chunkSizeBytes: 1024 }), plaintext, {
    tenantId: 'acme',
  });
  const during = new TenantKeyring({ provider: new LocalKeyProvider([newMaster, oldMaster]), drive });
  t.deepEqual(await during.rewrapAll(), { tenantCount: 1, rewrappedKeyCount: 1 });
  const file = JSON.parse(
    Buffer.from(
      await drive.readFile((await drive.list('tenant-keys')).map((name) => `tenant-keys/${name}`)[0]),
    ).toString(),
  );
  t.is(file.keys[0].wrapped.keyId, masterKeyId(newMaster));
  const after = new TenantKeyring({ provider: new LocalKeyProvider([newMaster]), drive });
  t.deepEqual(await openBytes(new ObjectEncryption({ keyring: after }), stored, plaintext.length), plaintext);
  // An agent that still has only the old master key cannot open the rewrapped tenant key.
  const stale = new TenantKeyring({ provider: new LocalKeyProvider([oldMaster]), drive });
  const error = await t.throwsAsync(
    openBytes(new ObjectEncryption({ keyring: stale }), stored, plaintext.length),
  );
  t.true(isCryptoError(error, 'KEY_NOT_FOUND'));
});

test('tenant key rotation: new objects use the new tenant key, old ones still read', async (t) => {
  const { encryption, keyring } = await encryptionHarness(t, { chunkSizeBytes: 1024 });
  const plaintext = randomBytes(2000);
  const old = await sealBytes(encryption, plaintext, { tenantId: 'acme' });
  const newKeyId = await keyring.rotateTenantKey('acme');
  const fresh = await sealBytes(encryption, plaintext, { tenantId: 'acme' });
  t.is(fresh.envelope.dataKey.wrapped.keyId, newKeyId);
  t.not(old.envelope.dataKey.wrapped.keyId, newKeyId);
  t.deepEqual(await openBytes(encryption, old, plaintext.length), plaintext);
  t.deepEqual(await openBytes(encryption, fresh, plaintext.length), plaintext);
});

test('crypto-shredding: once a tenant is destroyed its objects cannot be opened, even by a fresh keyring', async (t) => {
  const { encryption, keyring, drive, masterKeys } = await encryptionHarness(t);
  const stored = await sealBytes(encryption, randomBytes(100), { tenantId: 'leaving' });
  await keyring.destroyTenant('leaving');
  t.true(isCryptoError(await t.throwsAsync(encryption.open(stored.envelope)), 'KEY_NOT_FOUND'));
  const reopened = new TenantKeyring({ provider: new LocalKeyProvider(masterKeys), drive });
  t.true(
    isCryptoError(
      await t.throwsAsync(new ObjectEncryption({ keyring: reopened }).open(stored.envelope)),
      'KEY_NOT_FOUND',
    ),
  );
});

test('tenant keys: a wrapped tenant key moved to another tenant fails to open', async (t) => {
  const { encryption, drive, masterKeys } = await encryptionHarness(t);
  await sealBytes(encryption, randomBytes(10), { tenantId: 'alpha' });
  const name = (await drive.list('tenant-keys'))[0];
  const file = JSON.parse(Buffer.from(await drive.readFile(`tenant-keys/${name}`)).toString());
  const forged = { ...file, tenantId: 'beta' };
  await drive.writeFileAtomic(
    `tenant-keys/${Buffer.from('beta').toString('hex')}.json`,
    Buffer.from(JSON.stringify(forged)),
  );
  const keyring = new TenantKeyring({ provider: new LocalKeyProvider(masterKeys), drive });
  const error = await t.throwsAsync(keyring.wrapDataKey('beta', randomBytes(32), 'context'));
  t.true(isCryptoError(error, 'TAMPERED'));
});

test('SSE-C: the right key reads back; a wrong key is refused before any byte; no key is refused', async (t) => {
  const { encryption } = await encryptionHarness(t, { chunkSizeBytes: 1024 });
  const customerKey = parseCustomerKey(customerHeaders(randomBytes(32)));
  const plaintext = randomBytes(5000);
  const stored = await sealBytes(encryption, plaintext, { tenantId: 'acme', customerKey });
  t.is(stored.envelope.dataKey.wrappedBy, 'customer');
  t.false(JSON.stringify(stored.envelope).includes(customerKey.key.toString('base64')));
  t.deepEqual(await openBytes(encryption, stored, plaintext.length, customerKey), plaintext);
  const wrongKey = parseCustomerKey(customerHeaders(randomBytes(32)));
  t.true(
    isCryptoError(await t.throwsAsync(encryption.open(stored.envelope, wrongKey)), 'WRONG_CUSTOMER_KEY'),
  );
  t.true(isCryptoError(await t.throwsAsync(encryption.open(stored.envelope)), 'CUSTOMER_KEY_MISMATCH'));
  // A key on an object that was not written with one is refused too, as S3 does.
  const plain = await sealBytes(encryption, plaintext, { tenantId: 'acme' });
  t.true(
    isCryptoError(await t.throwsAsync(encryption.open(plain.envelope, customerKey)), 'CUSTOMER_KEY_MISMATCH'),
  );
});

test('SSE-C: a fingerprint forged to match a wrong key still fails to unwrap the data key', async (t) => {
  const { encryption } = await encryptionHarness(t);
  const rightKey = parseCustomerKey(customerHeaders(randomBytes(32)));
  const wrongKey = parseCustomerKey(customerHeaders(randomBytes(32)));
  const stored = await sealBytes(encryption, randomBytes(100), { tenantId: 'acme', customerKey: rightKey });
  const forgedFrom = await sealBytes(encryption, randomBytes(1), { tenantId: 'acme', customerKey: wrongKey });
  const envelope = structuredClone(stored.envelope);
  if (envelope.dataKey.wrappedBy !== 'customer' || forgedFrom.envelope.dataKey.wrappedBy !== 'customer')
    throw new Error('not SSE-C');
  envelope.dataKey.customerKey = forgedFrom.envelope.dataKey.customerKey;
  t.true(isCryptoError(await t.throwsAsync(encryption.open(envelope, wrongKey)), 'TAMPERED'));
});

test('SSE-C headers: S3 checks of algorithm, key length and key MD5', (t) => {
  const key = randomBytes(32);
  const good = customerHeaders(key);
  t.deepEqual(parseCustomerKey(good).key, key);
  const cases: [Record<string, string | undefined>, string][] = [
    [{ ...good, algorithm: 'AES128' }, 'The encryption algorithm specified is not valid.'],
    [{ ...good, algorithm: undefined }, 'must provide a valid encryption algorithm'],
    [
      { ...good, key: randomBytes(16).toString('base64') },
      'The secret key was invalid for the specified algorithm.',
    ],
    [
      { ...good, keyMd5: createHash('md5').update('other').digest('base64') },
      'The calculated MD5 hash of the key did not match',
    ],
    [{ ...good, keyMd5: undefined }, 'client calculated MD5 of the secret key'],
  ];
  for (const [headers, message] of cases) {
    const error = t.throws(() => parseCustomerKey(headers));
    t.true(isCryptoError(error, 'INVALID_CUSTOMER_KEY'));
    t.true(error.message.includes(message), error.message);
  }
});

test('master keys: read from the environment or a file, in base64 or hex, first one current', async (t) => {
  const first = randomBytes(32);
  const second = randomBytes(32);
  const text = `# rotated 2026-11\n${first.toString('base64')}\n${second.toString('hex')}\n`;
  t.deepEqual(parseMasterKeys(text), [first, second]);
  const fromEnvironment = await loadLocalKeyProvider({
    environment: { COFFRE_MASTER_KEYS: `${first.toString('base64')},${second.toString('base64')}` },
  });
  t.is(fromEnvironment?.currentKeyId, masterKeyId(first));
  const drive = await temporaryDrive(t);
  const file = join(drive.description, 'master.keys');
  await writeFile(file, text);
  const fromFile = await loadLocalKeyProvider({ environment: { COFFRE_MASTER_KEY_FILE: file } });
  t.is(fromFile?.currentKeyId, masterKeyId(first));
  t.is(await loadLocalKeyProvider({ environment: {} }), null);
  t.true(
    isCryptoError(
      t.throws(() => parseMasterKeys('c2hvcnQ=')),
      'INVALID_MASTER_KEY',
    ),
  );
});

test('ranged reads through the envelope: a range decrypts from only the stored bytes its plan names', async (t) => {
  const { encryption } = await encryptionHarness(t, { chunkSizeBytes: 1000 });
  const plaintext = randomBytes(10_500);
  const stored = await sealBytes(encryption, plaintext, { tenantId: 'acme' });
  const opened = await encryption.open(stored.envelope);
  const plan = opened.plan({ offsetBytes: 4321, lengthBytes: 2000 }, plaintext.length);
  t.is(plan.chunkCount, 3);
  const slice = stored.ciphertext.subarray(
    plan.ciphertext.offsetBytes,
    plan.ciphertext.offsetBytes + plan.ciphertext.lengthBytes,
  );
  t.deepEqual(await collect(opened.decrypt(piecesOf(slice, 333), plan)), plaintext.subarray(4321, 6321));
  const damaged = Buffer.from(slice);
  damaged[damaged.length - 1] ^= 0x80;
  const { bytes, error } = await collectUntilError(opened.decrypt(piecesOf(damaged, 333), plan));
  t.true(isCryptoError(error, 'TAMPERED'));
  t.deepEqual(bytes, plaintext.subarray(4321, 6000));
});

test('tenant keys are kept on every drive: a lost or damaged copy is skipped, a damaged one is never replaced by a new key', async (t) => {
  const drives = [await temporaryDrive(t), await temporaryDrive(t), await temporaryDrive(t)];
  const master = randomBytes(32);
  const keyring = new TenantKeyring({ provider: new LocalKeyProvider([master]), drive: drives });
  const encryption = new ObjectEncryption({ keyring, chunkSizeBytes: 1024 });
  const plaintext = randomBytes(3000);
  const stored = await sealBytes(encryption, plaintext, { tenantId: 'acme' });
  const name = `tenant-keys/${(await drives[0].list('tenant-keys'))[0]}`;
  for (const drive of drives) t.truthy(await drive.readFile(name));
  // The first copy is lost, the second damaged: the third opens the objects.
  await drives[0].remove(name);
  await drives[1].writeFileAtomic(name, Buffer.from('{"magic":"garbage"}'));
  const survivor = new TenantKeyring({ provider: new LocalKeyProvider([master]), drive: drives });
  t.deepEqual(
    await openBytes(new ObjectEncryption({ keyring: survivor }), stored, plaintext.length),
    plaintext,
  );
  // With only the damaged copy left, opening fails and no new key is created over it.
  await drives[2].remove(name);
  const damaged = new TenantKeyring({ provider: new LocalKeyProvider([master]), drive: drives });
  t.true(
    isCryptoError(
      await t.throwsAsync(damaged.wrapDataKey('acme', randomBytes(32), 'context')),
      'UNKNOWN_FORMAT',
    ),
  );
  t.deepEqual(Buffer.from(await drives[1].readFile(name)).toString(), '{"magic":"garbage"}');
});
