// listManifestParts reads the part records of a page several at a time: the page it answers is
// still in part order, with each part's own checksum, whatever order the reads finish in.
import { setTimeout as delay } from 'node:timers/promises';
import test from 'ava';
import { listManifestParts, type Manifest } from '../../agent/objects/manifest.ts';
import { toMetadata } from '../../agent/objects/records.ts';
import type { ErasureSetContract, StoredVersion, VersionAddress } from '../../agent/objects/store.ts';

function partAddress(partNumber: number): VersionAddress {
  return { bucket: '.uploads', key: `upload-1/${partNumber}`, versionId: `v${partNumber}` };
}

/** A store whose part stats finish in a shuffled order, counting how many run at once. */
function slowStore(checksumOf: (partNumber: number) => string | null) {
  let inFlight = 0;
  let mostInFlight = 0;
  const store = {
    async statVersion(address: VersionAddress): Promise<StoredVersion | null> {
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      const partNumber = Number(address.key.split('/')[1]);
      await delay((partNumber * 7) % 5);
      inFlight -= 1;
      const value = checksumOf(partNumber);
      if (value === null) return null;
      const record = { checksum: { algorithm: 'CRC32', value, type: 'FULL_OBJECT' } };
      return { address, sizeBytes: 5, metadata: toMetadata({ kind: 'part', record } as never) };
    },
  } as unknown as ErasureSetContract;
  return { store, mostInFlight: () => mostInFlight };
}

const manifest: Manifest = {
  parts: Array.from({ length: 100 }, (_, index) => ({
    partNumber: index + 1,
    address: partAddress(index + 1),
    sizeBytes: 5_000_000 + index,
    etag: `etag-${index + 1}`,
  })),
};

test('a page of parts is in part order with each part’s checksum, read at most 16 at a time', async (t) => {
  const { store, mostInFlight } = slowStore((partNumber) => `crc-${partNumber}`);
  const page = await listManifestParts(store, manifest, 10, 60);
  t.deepEqual(
    page.parts.map((part) => part.partNumber),
    Array.from({ length: 60 }, (_, index) => index + 11),
  );
  for (const part of page.parts) {
    t.is(part.sizeBytes, 5_000_000 + part.partNumber - 1);
    t.deepEqual(part.checksum, { algorithm: 'CRC32', value: `crc-${part.partNumber}`, type: 'FULL_OBJECT' });
  }
  t.true(page.isTruncated);
  t.is(page.nextPartNumberMarker, 70);
  t.true(mostInFlight() > 1, 'the reads ran one at a time');
  t.true(mostInFlight() <= 16, `${mostInFlight()} reads at once`);
});

test('the last page is not truncated, and a part whose record is gone has no checksum', async (t) => {
  const { store } = slowStore((partNumber) => (partNumber === 95 ? null : `crc-${partNumber}`));
  const page = await listManifestParts(store, manifest, 90, 1000);
  t.deepEqual(
    page.parts.map((part) => [part.partNumber, part.checksum?.value ?? null]),
    [91, 92, 93, 94, 95, 96, 97, 98, 99, 100].map((partNumber) => [
      partNumber,
      partNumber === 95 ? null : `crc-${partNumber}`,
    ]),
  );
  t.false(page.isTruncated);
  t.is(page.nextPartNumberMarker, undefined);
  t.deepEqual(await listManifestParts(store, manifest, 100, 1000), { parts: [], isTruncated: false });
});

test('a part record that cannot be read fails the page, and the other readers stop taking parts', async (t) => {
  let calls = 0;
  const failing = {
    async statVersion(address: VersionAddress): Promise<StoredVersion | null> {
      calls += 1;
      await delay(2);
      if (address.key.endsWith('/3')) throw new Error('drive gone');
      return null;
    },
  } as unknown as ErasureSetContract;
  await t.throwsAsync(listManifestParts(failing, manifest, 0, 100), { message: 'drive gone' });
  await delay(50);
  t.true(calls < 40, `${calls} part records read for a page that had failed`);
});
