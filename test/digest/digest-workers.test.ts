import { createHash, randomBytes } from 'node:crypto';
import test from 'ava';
import { createDigest, type DigestAlgorithm } from '../../agent/digest/algorithms.ts';
import {
  DigestWorkers,
  digestWhileStreaming,
  offloadThresholdBytes,
  ringBytes,
} from '../../agent/digest/digest-workers.ts';

const allAlgorithms: DigestAlgorithm[] = ['MD5', 'SHA1', 'SHA256', 'CRC32', 'CRC32C', 'CRC64NVME'];

function inPlace(algorithm: DigestAlgorithm, body: Uint8Array): string {
  const digest = createDigest(algorithm);
  digest.update(body);
  return Buffer.from(digest.digest()).toString('hex');
}

/** Feeds `body` in pieces of `pieceBytes`, as a request body arrives. */
async function feed(
  workers: DigestWorkers,
  algorithms: DigestAlgorithm[],
  body: Uint8Array,
  pieceBytes: number,
) {
  const digests = workers.open(algorithms, body.byteLength);
  for (let offset = 0; offset < body.byteLength; offset += pieceBytes) {
    await digests.update(body.subarray(offset, offset + pieceBytes));
  }
  return (await digests.digest()).map((digest) => Buffer.from(digest).toString('hex'));
}

test('digest worker: a body larger than its ring, in odd pieces, gets the digests of every algorithm computed in place', async (t) => {
  const workers = new DigestWorkers({ workerCount: 1 });
  try {
    const body = randomBytes(2 * ringBytes + 12_345);
    const digests = await feed(workers, allAlgorithms, body, 100_003);
    t.is(workers.runningWorkers, 1);
    t.deepEqual(
      digests,
      allAlgorithms.map((algorithm) => inPlace(algorithm, body)),
    );
    t.is(digests[0], createHash('md5').update(body).digest('hex'));
  } finally {
    await workers.close();
  }
});

test('digest worker: several bodies at once on two workers each get their own digests', async (t) => {
  const workers = new DigestWorkers({ workerCount: 2 });
  try {
    const bodies = [0, 1, 2, 3].map(() => randomBytes(offloadThresholdBytes + 777_777));
    const results = await Promise.all(
      bodies.map((body, index) => feed(workers, ['MD5'], body, 65_536 + index)),
    );
    t.deepEqual(
      results,
      bodies.map((body) => [createHash('md5').update(body).digest('hex')]),
    );
  } finally {
    await workers.close();
  }
});

test('digest worker: twenty bodies at once on one worker, MD5 hashed together, each get their own digests', async (t) => {
  // One worker takes every body, so its passes find many at once and their MD5s go through the
  // multi-stream addon together; the bodies differ in length (some beyond their ring), in piece
  // sizes and in the digests asked for (MD5 first, last or alone), and one is abandoned midway.
  const workers = new DigestWorkers({ workerCount: 1 });
  try {
    const sets: DigestAlgorithm[][] = [
      ['MD5'],
      ['MD5', 'CRC32'],
      ['SHA256', 'MD5'],
      ['CRC64NVME', 'MD5', 'SHA1'],
    ];
    const bodies = Array.from({ length: 20 }, (_, index) =>
      randomBytes(offloadThresholdBytes + ((index * 1_234_567) % (2 * ringBytes + 99))),
    );
    const abandoned = workers.open(['MD5'], 3 * offloadThresholdBytes);
    await abandoned.update(randomBytes(offloadThresholdBytes + 5));
    const results = Promise.all(
      bodies.map((body, index) => feed(workers, sets[index % sets.length], body, 40_000 + index * 997)),
    );
    abandoned.abandon();
    t.deepEqual(
      await results,
      bodies.map((body, index) => sets[index % sets.length].map((algorithm) => inPlace(algorithm, body))),
    );
    t.is(workers.runningWorkers, 1);
    t.is(workers.ringsInUse, 0);
  } finally {
    await workers.close();
  }
});

test('digest worker: an algorithm asked twice (x-amz-content-sha256 and x-amz-checksum-sha256) gets its digest at each place', async (t) => {
  const workers = new DigestWorkers({ workerCount: 1 });
  try {
    const algorithms: DigestAlgorithm[] = ['MD5', 'SHA256', 'SHA256', 'MD5', 'CRC32'];
    const bodies = [randomBytes(offloadThresholdBytes + 3), randomBytes(3 * ringBytes + 1)];
    const results = await Promise.all(bodies.map((body) => feed(workers, algorithms, body, 65_536)));
    t.deepEqual(
      results,
      bodies.map((body) => algorithms.map((algorithm) => inPlace(algorithm, body))),
    );
  } finally {
    await workers.close();
  }
});

test('digest worker: a body under the threshold is hashed in place, no worker started', async (t) => {
  const workers = new DigestWorkers({ workerCount: 1 });
  const body = randomBytes(4096);
  t.deepEqual(await feed(workers, ['SHA256'], body, 1000), [inPlace('SHA256', body)]);
  t.is(workers.runningWorkers, 0);
  await workers.close();
});

test('digest worker: an abandoned body frees its ring, and the workers stop on close and restart on demand', async (t) => {
  const workers = new DigestWorkers({ workerCount: 1 });
  try {
    for (let index = 0; index < 20; index += 1) {
      const digests = workers.open(['MD5'], 8 * offloadThresholdBytes);
      t.is(workers.ringsInUse, 1);
      await digests.update(randomBytes(300_000));
      digests.abandon();
      t.is(workers.ringsInUse, 0);
    }
    const body = randomBytes(offloadThresholdBytes);
    t.deepEqual(await feed(workers, ['MD5'], body, 50_000), [inPlace('MD5', body)]);
    t.is(workers.ringsInUse, 0);
    await workers.close();
    t.is(workers.runningWorkers, 0);
    t.deepEqual(await feed(workers, ['CRC32'], body, 50_000), [inPlace('CRC32', body)]);
    t.is(workers.runningWorkers, 1);
  } finally {
    await workers.close();
  }
});

test('digest worker: closing the workers fails a body still being hashed', async (t) => {
  const workers = new DigestWorkers({ workerCount: 1 });
  const digests = workers.open(['MD5'], 8 * offloadThresholdBytes);
  await digests.update(randomBytes(100_000));
  await workers.close();
  await t.throwsAsync(digests.digest(), { message: /stopped/ });
});

test('digest while streaming: the session opens when the body is first read, so a body never read holds no ring', async (t) => {
  const workers = new DigestWorkers({ workerCount: 1 });
  t.teardown(() => workers.close());
  const body = randomBytes(2 * offloadThresholdBytes);
  async function* pieces() {
    for (let offset = 0; offset < body.byteLength; offset += 65_536)
      yield body.subarray(offset, offset + 65_536);
  }
  // A request refused before its body is read: the stream is made, then dropped.
  for (let index = 0; index < 20; index += 1)
    digestWhileStreaming(pieces(), () => workers.open(['MD5'], body.byteLength));
  t.is(workers.ringsInUse, 0);
  const streamed = digestWhileStreaming(pieces(), () => workers.open(['MD5'], body.byteLength));
  const first = await streamed.body.next();
  t.false(first.done);
  t.is(workers.ringsInUse, 1, 'taken on the first read');
  for await (const _ of streamed.body);
  const digests = await streamed.digests();
  t.is(Buffer.from(digests![0]).toString('hex'), inPlace('MD5', body));
  t.is(streamed.consumedBytes(), body.byteLength);
  t.is(workers.ringsInUse, 0);
});
