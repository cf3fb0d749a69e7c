import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { type CustomerKey, parseCustomerKey } from '../../agent/crypto/customer-key.ts';
import { isObjectError } from '../../agent/objects/errors.ts';
import { openObjectLayer } from '../../agent/objects/object-layer.ts';
import { bucketIdOf } from '../../agent/objects/records.ts';
import { openProtection } from '../../agent/protection.ts';
import { openErasureSet } from '../../agent/shards/index.ts';
import { bodyOf, patternBytes, readAll } from './helpers.ts';

function customerKey(): CustomerKey {
  const key = randomBytes(32);
  return parseCustomerKey({
    algorithm: 'AES256',
    key: key.toString('base64'),
    keyMd5: createHash('md5').update(key).digest('base64'),
  });
}

async function encryptedLayer(t: ExecutionContext) {
  const directory = await mkdtemp(join(tmpdir(), 'coffre-sse-c-'));
  const drives: string[] = [];
  for (let index = 0; index < 6; index += 1) {
    drives.push(join(directory, `drive-${index}`));
    await mkdir(drives[index]);
  }
  const store = await openErasureSet({ drives, blockSizeBytes: 64 * 1024, inlineThresholdBytes: 4 * 1024 });
  const protection = await openProtection(directory, {});
  const layer = await openObjectLayer({
    store,
    indexPath: join(directory, 'index.sqlite'),
    encryption: protection.encryption,
    clock: () => protection.retentionClock.now(),
  });
  t.teardown(async () => {
    layer.close();
    await store.close();
    await protection.close();
    await rm(directory, { recursive: true, force: true });
  });
  await layer.buckets.create({ name: 'vault', ownerTenantId: 'tenant-a' });
  return layer;
}

test('SSE-C: a version written with a customer key reads back only with it (InvalidRequest without, AccessDenied with another)', async (t) => {
  const layer = await encryptedLayer(t);
  const key = customerKey();
  const bytes = patternBytes(300_000, 1);
  const version = await layer.objects.put({
    bucket: bucketIdOf('tenant-a', 'vault'),
    key: 'secret',
    body: bodyOf(bytes),
    customerKey: key,
  });
  t.deepEqual(version.encryption, { algorithm: 'SSE-C', customerKeyMd5: key.keyMd5 });
  const missing = await t.throwsAsync(
    layer.objects.get({ bucket: bucketIdOf('tenant-a', 'vault'), key: 'secret' }),
  );
  t.true(isObjectError(missing, 'InvalidRequest'));
  t.true(
    isObjectError(
      t.throws(() => layer.objects.head({ bucket: bucketIdOf('tenant-a', 'vault'), key: 'secret' })),
      'InvalidRequest',
    ),
  );
  const wrong = await t.throwsAsync(
    layer.objects.get({ bucket: bucketIdOf('tenant-a', 'vault'), key: 'secret', customerKey: customerKey() }),
  );
  t.true(isObjectError(wrong, 'AccessDenied'));
  const got = await layer.objects.get({
    bucket: bucketIdOf('tenant-a', 'vault'),
    key: 'secret',
    customerKey: key,
  });
  t.deepEqual(await readAll(got.body), bytes);
  const ranged = await layer.objects.get({
    bucket: bucketIdOf('tenant-a', 'vault'),
    key: 'secret',
    customerKey: key,
    range: { firstByte: 100_000, lastByte: 100_099 },
  });
  t.deepEqual(await readAll(ranged.body), bytes.subarray(100_000, 100_100));
});

test('SSE-C: a key on a version written without one is InvalidRequest; new versions are AES256 at rest', async (t) => {
  const layer = await encryptedLayer(t);
  const version = await layer.objects.put({
    bucket: bucketIdOf('tenant-a', 'vault'),
    key: 'plain',
    body: bodyOf('hello'),
  });
  t.deepEqual(version.encryption, { algorithm: 'AES256' });
  const error = await t.throwsAsync(
    layer.objects.get({ bucket: bucketIdOf('tenant-a', 'vault'), key: 'plain', customerKey: customerKey() }),
  );
  t.true(isObjectError(error, 'InvalidRequest'));
});

test('SSE-C multipart: every part needs the upload key; the completed object reads only with it', async (t) => {
  const layer = await encryptedLayer(t);
  const key = customerKey();
  const upload = await layer.multipart.create({
    bucket: bucketIdOf('tenant-a', 'vault'),
    key: 'big',
    encryption: { algorithm: 'SSE-C', customerKeyMd5: key.keyMd5 },
  });
  const first = patternBytes(5 * 1024 * 1024, 2);
  const second = patternBytes(1000, 3);
  const withoutKey = await t.throwsAsync(
    layer.multipart.uploadPart({
      bucket: bucketIdOf('tenant-a', 'vault'),
      key: 'big',
      uploadId: upload.uploadId,
      partNumber: 1,
      body: bodyOf(first),
    }),
  );
  t.true(isObjectError(withoutKey, 'InvalidRequest'));
  const parts = [];
  for (const [partNumber, bytes] of [
    [1, first],
    [2, second],
  ] as const) {
    parts.push(
      await layer.multipart.uploadPart({
        bucket: bucketIdOf('tenant-a', 'vault'),
        key: 'big',
        uploadId: upload.uploadId,
        partNumber,
        body: bodyOf(bytes),
        customerKey: key,
      }),
    );
  }
  const completed = await layer.multipart.complete({
    bucket: bucketIdOf('tenant-a', 'vault'),
    key: 'big',
    uploadId: upload.uploadId,
    parts: parts.map((part) => ({ partNumber: part.partNumber, etag: part.etag })),
  });
  t.is(completed.encryption?.algorithm, 'SSE-C');
  t.true(
    isObjectError(
      await t.throwsAsync(layer.objects.get({ bucket: bucketIdOf('tenant-a', 'vault'), key: 'big' })),
      'InvalidRequest',
    ),
  );
  const got = await layer.objects.get({
    bucket: bucketIdOf('tenant-a', 'vault'),
    key: 'big',
    customerKey: key,
  });
  t.deepEqual(await readAll(got.body), Buffer.concat([first, second]));
});

test('SSE-C copy: the source key opens the source, the copy is under the destination key or the tenant key', async (t) => {
  const layer = await encryptedLayer(t);
  const sourceKey = customerKey();
  const destinationKey = customerKey();
  const bytes = patternBytes(70_000, 4);
  await layer.objects.put({
    bucket: bucketIdOf('tenant-a', 'vault'),
    key: 'source',
    body: bodyOf(bytes),
    customerKey: sourceKey,
  });
  const refused = await t.throwsAsync(
    layer.copies.copyObject({
      source: { bucket: bucketIdOf('tenant-a', 'vault'), key: 'source' },
      bucket: bucketIdOf('tenant-a', 'vault'),
      key: 'copy',
    }),
  );
  t.true(isObjectError(refused, 'InvalidRequest'));
  const rekeyed = await layer.copies.copyObject({
    source: { bucket: bucketIdOf('tenant-a', 'vault'), key: 'source' },
    bucket: bucketIdOf('tenant-a', 'vault'),
    key: 'copy',
    sourceCustomerKey: sourceKey,
    customerKey: destinationKey,
  });
  t.is(rekeyed.version.encryption?.customerKeyMd5, destinationKey.keyMd5);
  t.deepEqual(
    await readAll(
      (
        await layer.objects.get({
          bucket: bucketIdOf('tenant-a', 'vault'),
          key: 'copy',
          customerKey: destinationKey,
        })
      ).body,
    ),
    bytes,
  );
  const plain = await layer.copies.copyObject({
    source: { bucket: bucketIdOf('tenant-a', 'vault'), key: 'source' },
    bucket: bucketIdOf('tenant-a', 'vault'),
    key: 'plain-copy',
    sourceCustomerKey: sourceKey,
  });
  t.deepEqual(plain.version.encryption, { algorithm: 'AES256' });
  t.deepEqual(
    await readAll(
      (await layer.objects.get({ bucket: bucketIdOf('tenant-a', 'vault'), key: 'plain-copy' })).body,
    ),
    bytes,
  );
});
