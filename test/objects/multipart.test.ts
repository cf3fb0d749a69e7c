import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import test from 'ava';
import { isObjectError } from '../../agent/objects/errors.ts';
import { minimumPartSizeBytes, multipartEtag } from '../../agent/objects/multipart.ts';
import { bucketIdOf } from '../../agent/objects/records.ts';
import {
  bodyOf,
  createBucket,
  type Harness,
  openHarness,
  patternBytes,
  readAll,
  storeKinds,
  tenant,
} from './helpers.ts';

const md5Hex = (data: Buffer) => createHash('md5').update(data).digest('hex');
const mebibyte = 1024 * 1024;

async function startUpload(harness: Harness, key = 'big.bin') {
  return harness.layer.multipart.create({
    bucket: bucketIdOf(tenant, 'uploads'),
    key,
    headers: { contentType: 'application/x-tar' },
  });
}

for (const kind of storeKinds) {
  test(`complete (${kind} store): the object reads back as the parts in order, with ETag md5(part md5s)-N and no data copy`, async (t) => {
    const harness = await openHarness(t, kind);
    await createBucket(harness, 'uploads');
    const upload = await startUpload(harness);
    const parts = [patternBytes(5 * mebibyte, 1), patternBytes(5 * mebibyte, 2), patternBytes(123_457, 3)];
    // Upload out of order: part order is by number, not by arrival.
    const uploaded = [];
    for (const index of [2, 0, 1]) {
      uploaded[index] = await harness.layer.multipart.uploadPart({
        bucket: bucketIdOf(tenant, 'uploads'),
        key: 'big.bin',
        uploadId: upload.uploadId,
        partNumber: index + 1,
        body: bodyOf(parts[index]),
      });
      t.is(uploaded[index].etag, md5Hex(parts[index]));
    }
    const listed = harness.layer.multipart.listParts({
      bucket: bucketIdOf(tenant, 'uploads'),
      key: 'big.bin',
      uploadId: upload.uploadId,
    });
    t.deepEqual(
      listed.parts.map((part) => [part.partNumber, part.sizeBytes]),
      parts.map((part, index) => [index + 1, part.length]),
    );
    const completed = await harness.layer.multipart.complete({
      bucket: bucketIdOf(tenant, 'uploads'),
      key: 'big.bin',
      uploadId: upload.uploadId,
      parts: uploaded.map((part) => ({ partNumber: part.partNumber, etag: `"${part.etag}"` })),
    });
    t.is(completed.etag, multipartEtag(parts.map(md5Hex)));
    t.regex(completed.etag, /^[0-9a-f]{32}-3$/);
    t.is(completed.sizeBytes, 10 * mebibyte + 123_457);
    t.is(completed.headers.contentType, 'application/x-tar');
    if (harness.memory !== null) {
      const objectData = [...harness.memory.entries.values()].find(
        (entry) => entry.version.address.key === 'big.bin',
      );
      t.true(objectData!.data.length < 4096, 'the object version holds a manifest, not a copy of the parts');
    }
    const whole = Buffer.concat(parts);
    const got = await harness.layer.objects.get({ bucket: bucketIdOf(tenant, 'uploads'), key: 'big.bin' });
    t.true((await readAll(got.body)).equals(whole));
    // A range across the boundary of parts 1 and 2, and one inside the last part.
    for (const range of [
      { firstByte: 5 * mebibyte - 10, lastByte: 5 * mebibyte + 9 },
      { firstByte: 4 * mebibyte, lastByte: 10 * mebibyte + 5 },
      { suffixLengthBytes: 1000 },
    ]) {
      const ranged = await harness.layer.objects.get({
        bucket: bucketIdOf(tenant, 'uploads'),
        key: 'big.bin',
        range,
      });
      const start = ranged.range!.offsetBytes;
      t.true(
        (await readAll(ranged.body)).equals(whole.subarray(start, start + ranged.range!.lengthBytes)),
        JSON.stringify(range),
      );
    }
    // GetObject ?partNumber=N: where part N lies, then a ranged read of exactly it.
    const second = await harness.layer.objects.partRange({
      bucket: bucketIdOf(tenant, 'uploads'),
      key: 'big.bin',
      partNumber: 2,
    });
    t.deepEqual(second, { offsetBytes: 5 * mebibyte, lengthBytes: 5 * mebibyte });
    const secondBytes = await harness.layer.objects.get({
      bucket: bucketIdOf(tenant, 'uploads'),
      key: 'big.bin',
      range: { firstByte: second!.offsetBytes, lastByte: second!.offsetBytes + second!.lengthBytes - 1 },
    });
    t.true((await readAll(secondBytes.body)).equals(parts[1]));
    t.is(
      await harness.layer.objects.partRange({
        bucket: bucketIdOf(tenant, 'uploads'),
        key: 'big.bin',
        partNumber: 4,
      }),
      null,
    );
    t.deepEqual(
      harness.layer.multipart.listUploads({ bucket: bucketIdOf(tenant, 'uploads') }).uploads,
      [],
      'the completed upload is gone',
    );
    const noUpload = t.throws(() =>
      harness.layer.multipart.listParts({
        bucket: bucketIdOf(tenant, 'uploads'),
        key: 'big.bin',
        uploadId: upload.uploadId,
      }),
    );
    t.true(isObjectError(noUpload, 'NoSuchUpload'));
  });
}

test('complete: parts out of order are InvalidPartOrder; an unknown part or wrong ETag is InvalidPart; a small middle part is EntityTooSmall', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'uploads');
  const upload = await startUpload(harness);
  const sizes = [minimumPartSizeBytes, 1000, 2000];
  const etags: string[] = [];
  for (const [index, size] of sizes.entries()) {
    const part = await harness.layer.multipart.uploadPart({
      bucket: bucketIdOf(tenant, 'uploads'),
      key: 'big.bin',
      uploadId: upload.uploadId,
      partNumber: index + 1,
      body: bodyOf(patternBytes(size, index)),
    });
    etags.push(part.etag);
  }
  const complete = (parts: { partNumber: number; etag: string }[]) =>
    harness.layer.multipart.complete({
      bucket: bucketIdOf(tenant, 'uploads'),
      key: 'big.bin',
      uploadId: upload.uploadId,
      parts,
    });
  const cases: [string, { partNumber: number; etag: string }[], string][] = [
    [
      'descending',
      [
        { partNumber: 2, etag: etags[1] },
        { partNumber: 1, etag: etags[0] },
      ],
      'InvalidPartOrder',
    ],
    [
      'repeated',
      [
        { partNumber: 1, etag: etags[0] },
        { partNumber: 1, etag: etags[0] },
      ],
      'InvalidPartOrder',
    ],
    [
      'unknown part',
      [
        { partNumber: 1, etag: etags[0] },
        { partNumber: 9, etag: etags[1] },
      ],
      'InvalidPart',
    ],
    ['wrong etag', [{ partNumber: 1, etag: etags[1] }], 'InvalidPart'],
    [
      'small middle part',
      [
        { partNumber: 1, etag: etags[0] },
        { partNumber: 2, etag: etags[1] },
        { partNumber: 3, etag: etags[2] },
      ],
      'EntityTooSmall',
    ],
    ['no parts', [], 'MalformedXML'],
  ];
  for (const [label, parts, code] of cases) {
    const error = await t.throwsAsync(complete(parts));
    t.true(isObjectError(error, code as never), `${label}: ${error.message}`);
  }
  // The upload survives failed completions; a valid subset (small part last) completes.
  const done = await complete([
    { partNumber: 1, etag: etags[0] },
    { partNumber: 3, etag: etags[2] },
  ]);
  t.is(done.sizeBytes, minimumPartSizeBytes + 2000);
  const body = await readAll(
    (await harness.layer.objects.get({ bucket: bucketIdOf(tenant, 'uploads'), key: 'big.bin' })).body,
  );
  t.true(body.equals(Buffer.concat([patternBytes(minimumPartSizeBytes, 0), patternBytes(2000, 2)])));
  t.is(
    [...harness.memory!.entries.keys()].filter((key) => key.includes('parts/')).length,
    2,
    'the part left out of the completion was deleted',
  );
});

test('upload part: re-uploading a part number replaces it; numbers outside 1..10000 are InvalidArgument; unknown upload is NoSuchUpload', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'uploads');
  const upload = await startUpload(harness);
  const base = { bucket: bucketIdOf(tenant, 'uploads'), key: 'big.bin', uploadId: upload.uploadId };
  await harness.layer.multipart.uploadPart({ ...base, partNumber: 1, body: bodyOf('first') });
  const second = await harness.layer.multipart.uploadPart({ ...base, partNumber: 1, body: bodyOf('second') });
  const parts = harness.layer.multipart.listParts(base).parts;
  t.deepEqual(
    parts.map((part) => part.etag),
    [second.etag],
  );
  t.is([...harness.memory!.entries.keys()].filter((key) => key.includes('parts/')).length, 1);
  for (const partNumber of [0, 10_001, 1.5]) {
    const error = await t.throwsAsync(
      harness.layer.multipart.uploadPart({ ...base, partNumber, body: bodyOf('x') }),
    );
    t.true(isObjectError(error, 'InvalidArgument'), String(partNumber));
  }
  const unknown = await t.throwsAsync(
    harness.layer.multipart.uploadPart({
      ...base,
      uploadId: 'no-such-upload',
      partNumber: 1,
      body: bodyOf('x'),
    }),
  );
  t.true(isObjectError(unknown, 'NoSuchUpload'));
  const completed = await harness.layer.multipart.complete({
    ...base,
    parts: [{ partNumber: 1, etag: second.etag }],
  });
  t.is(completed.etag, `${multipartEtag([second.etag])}`);
  t.is(
    (
      await readAll(
        (
          await harness.layer.objects.get({ bucket: bucketIdOf(tenant, 'uploads'), key: 'big.bin' })
        ).body,
      )
    ).toString(),
    'second',
  );
});

test('abort: the upload and all its parts are removed from the index and the store', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'uploads');
  const upload = await startUpload(harness);
  const base = { bucket: bucketIdOf(tenant, 'uploads'), key: 'big.bin', uploadId: upload.uploadId };
  for (const partNumber of [1, 2, 3])
    await harness.layer.multipart.uploadPart({ ...base, partNumber, body: bodyOf('p') });
  await harness.layer.multipart.abort(base);
  t.deepEqual(harness.layer.multipart.listUploads({ bucket: bucketIdOf(tenant, 'uploads') }).uploads, []);
  t.is([...harness.memory!.entries.keys()].filter((key) => key.includes(upload.uploadId)).length, 0);
  t.true(isObjectError(await t.throwsAsync(harness.layer.multipart.abort(base)), 'NoSuchUpload'));
  // Deleting the bucket is now allowed: no objects, no uploads.
  await t.notThrowsAsync(harness.layer.buckets.delete(bucketIdOf(tenant, 'uploads')));
});

test('list parts pages by part-number-marker; list uploads pages by key-marker and upload-id-marker and groups by delimiter', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'uploads');
  const upload = await startUpload(harness);
  const base = { bucket: bucketIdOf(tenant, 'uploads'), key: 'big.bin', uploadId: upload.uploadId };
  for (let partNumber = 1; partNumber <= 7; partNumber += 1) {
    await harness.layer.multipart.uploadPart({ ...base, partNumber, body: bodyOf(`p${partNumber}`) });
  }
  const numbers: number[] = [];
  let marker: number | undefined;
  for (;;) {
    const page = harness.layer.multipart.listParts({ ...base, maxParts: 3, partNumberMarker: marker });
    numbers.push(...page.parts.map((part) => part.partNumber));
    if (!page.isTruncated) break;
    marker = page.nextPartNumberMarker;
  }
  t.deepEqual(numbers, [1, 2, 3, 4, 5, 6, 7]);
  const uploads = [upload];
  for (const key of ['big.bin', 'logs/a', 'logs/b', 'zeta']) uploads.push(await startUpload(harness, key));
  const seen: string[] = [];
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    const page = harness.layer.multipart.listUploads({
      bucket: bucketIdOf(tenant, 'uploads'),
      maxUploads: 2,
      keyMarker,
      uploadIdMarker,
    });
    seen.push(...page.uploads.map((entry) => `${entry.key}#${entry.uploadId}`));
    if (!page.isTruncated) break;
    keyMarker = page.nextKeyMarker;
    uploadIdMarker = page.nextUploadIdMarker;
  }
  t.deepEqual(
    seen,
    uploads.map((entry) => `${entry.key}#${entry.uploadId}`),
    'ordered by key, then by initiation',
  );
  const grouped = harness.layer.multipart.listUploads({
    bucket: bucketIdOf(tenant, 'uploads'),
    delimiter: '/',
  });
  t.deepEqual(grouped.commonPrefixes, ['logs/']);
  t.deepEqual(
    grouped.uploads.map((entry) => entry.key),
    ['big.bin', 'big.bin', 'zeta'],
  );
});

test('completing onto an existing key in a versioned bucket adds a version; If-None-Match "*" refuses it', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'uploads', { versioning: 'Enabled' });
  await harness.layer.objects.put({
    bucket: bucketIdOf(tenant, 'uploads'),
    key: 'big.bin',
    body: bodyOf('old'),
  });
  const upload = await startUpload(harness);
  const base = { bucket: bucketIdOf(tenant, 'uploads'), key: 'big.bin', uploadId: upload.uploadId };
  const part = await harness.layer.multipart.uploadPart({ ...base, partNumber: 1, body: bodyOf('new') });
  const refused = await t.throwsAsync(
    harness.layer.multipart.complete({
      ...base,
      parts: [{ partNumber: 1, etag: part.etag }],
      ifNoneMatch: '*',
    }),
  );
  t.true(isObjectError(refused, 'PreconditionFailed'));
  await harness.layer.multipart.complete({ ...base, parts: [{ partNumber: 1, etag: part.etag }] });
  t.is(
    harness.layer.listing.listObjectVersions({ bucket: bucketIdOf(tenant, 'uploads') }).versions.length,
    2,
  );
  // Deleting the multipart version by id deletes its parts too.
  const newest = harness.layer.objects.head({ bucket: bucketIdOf(tenant, 'uploads'), key: 'big.bin' });
  await harness.layer.objects.delete({
    bucket: bucketIdOf(tenant, 'uploads'),
    key: 'big.bin',
    versionId: newest.versionId,
  });
  t.is([...harness.memory!.entries.keys()].filter((key) => key.includes('parts/')).length, 0);
});

test('upload part copy: a byte range of an existing object becomes a part', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'uploads');
  const source = patternBytes(10_000, 9);
  await harness.layer.objects.put({
    bucket: bucketIdOf(tenant, 'uploads'),
    key: 'source',
    body: bodyOf(source),
  });
  const upload = await startUpload(harness);
  const base = { bucket: bucketIdOf(tenant, 'uploads'), key: 'big.bin', uploadId: upload.uploadId };
  const { part } = await harness.layer.copies.uploadPartCopy({
    ...base,
    partNumber: 1,
    source: { bucket: bucketIdOf(tenant, 'uploads'), key: 'source' },
    range: { firstByte: 100, lastByte: 199 },
  });
  t.is(part.sizeBytes, 100);
  t.is(part.etag, md5Hex(source.subarray(100, 200)));
  t.is(part.checksum, null, 'an upload created without a checksum algorithm computes none');
});

test('upload part copy into an upload created with CRC32: the part gets the CRC32 of the copied range, as S3', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'uploads');
  const source = patternBytes(10_000, 9);
  await harness.layer.objects.put({
    bucket: bucketIdOf(tenant, 'uploads'),
    key: 'source',
    body: bodyOf(source),
  });
  const upload = await harness.layer.multipart.create({
    bucket: bucketIdOf(tenant, 'uploads'),
    key: 'big.bin',
    checksumAlgorithm: 'CRC32',
    checksumType: 'COMPOSITE',
  });
  const base = { bucket: bucketIdOf(tenant, 'uploads'), key: 'big.bin', uploadId: upload.uploadId };
  const { part } = await harness.layer.copies.uploadPartCopy({
    ...base,
    partNumber: 1,
    source: { bucket: bucketIdOf(tenant, 'uploads'), key: 'source' },
    range: { firstByte: 100, lastByte: 199 },
  });
  const expected = Buffer.alloc(4);
  expected.writeUInt32BE(crc32(source.subarray(100, 200)) >>> 0);
  t.deepEqual(part.checksum, { algorithm: 'CRC32', value: expected.toString('base64'), type: 'FULL_OBJECT' });
  t.deepEqual(harness.layer.multipart.listParts(base).parts[0].checksum, part.checksum);
});

test('two uploads of one part number at once: the one that finishes last is the part, the other is deleted', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'uploads');
  const upload = await startUpload(harness);
  const base = {
    bucket: bucketIdOf(tenant, 'uploads'),
    key: 'big.bin',
    uploadId: upload.uploadId,
    partNumber: 1,
  };
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const slowBody = (async function* () {
    yield Buffer.from('started first, ');
    await gate;
    yield Buffer.from('finished last');
  })();
  const slow = harness.layer.multipart.uploadPart({ ...base, body: slowBody });
  await new Promise((resolve) => setImmediate(resolve));
  await harness.layer.multipart.uploadPart({ ...base, body: bodyOf('started last, finished first') });
  open();
  const winner = await slow;
  t.deepEqual(
    harness.layer.multipart.listParts(base).parts.map((part) => part.etag),
    [winner.etag],
  );
  t.is([...harness.memory!.entries.keys()].filter((key) => key.includes('parts/')).length, 1);
});
