// A completed multipart upload is an object version whose store data is this manifest: the list
// of its parts' store addresses, in order. Completing an upload writes only the manifest (no copy
// of the parts' bytes); reading the object streams the parts one after another.
import assert from 'node:assert/strict';
import { ObjectError } from './errors.ts';
import { type ChecksumRecord, fromMetadata } from './records.ts';
import type { ByteRange, ErasureSetContract, ReadVersionOptions, VersionAddress } from './store.ts';

const manifestMagic = 'coffre.multipart-manifest';
const manifestFormatVersion = 1;

/** S3 allows at most 10,000 parts; a manifest entry is well under 200 bytes of JSON. */
export const maximumManifestBytes = 10_000 * 200 + 1024;

export interface ManifestPart {
  partNumber: number;
  address: VersionAddress;
  sizeBytes: number;
  etag: string;
}

export interface Manifest {
  parts: ManifestPart[];
}

export function encodeManifest(manifest: Manifest): Uint8Array {
  const bytes = Buffer.from(
    JSON.stringify({ magic: manifestMagic, formatVersion: manifestFormatVersion, ...manifest }),
  );
  assert.ok(bytes.length <= maximumManifestBytes, 'manifest exceeds its bound');
  return bytes;
}

export async function readManifest(store: ErasureSetContract, address: VersionAddress): Promise<Manifest> {
  const { body } = await store.readVersion(address);
  const chunks: Uint8Array[] = [];
  let totalBytes = 0;
  for await (const chunk of body) {
    totalBytes += chunk.length;
    assert.ok(
      totalBytes <= maximumManifestBytes,
      `manifest of ${address.key} exceeds ${maximumManifestBytes} bytes`,
    );
    chunks.push(chunk);
  }
  const decoded = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
    magic?: string;
    formatVersion?: number;
    parts?: ManifestPart[];
  };
  assert.equal(decoded.magic, manifestMagic, `store version ${address.key} is not a multipart manifest`);
  assert.equal(decoded.formatVersion, manifestFormatVersion, 'unknown manifest format');
  return { parts: decoded.parts ?? [] };
}

/** Streams `range` of the object that the manifest describes, reading only the parts it covers. */
export async function* readManifestRange(
  store: ErasureSetContract,
  manifest: Manifest,
  range: ByteRange,
  options: ReadVersionOptions = {},
): AsyncIterable<Uint8Array> {
  let partStartBytes = 0;
  const rangeEndBytes = range.offsetBytes + range.lengthBytes;
  for (const part of manifest.parts) {
    const partEndBytes = partStartBytes + part.sizeBytes;
    if (partEndBytes > range.offsetBytes && partStartBytes < rangeEndBytes) {
      const offsetBytes = Math.max(range.offsetBytes, partStartBytes) - partStartBytes;
      const lengthBytes = Math.min(rangeEndBytes, partEndBytes) - partStartBytes - offsetBytes;
      const whole = offsetBytes === 0 && lengthBytes === part.sizeBytes;
      const { body } = await store.readVersion(
        part.address,
        whole ? undefined : { offsetBytes, lengthBytes },
        options,
      );
      yield* body;
    }
    partStartBytes = partEndBytes;
    if (partStartBytes >= rangeEndBytes) return;
  }
}

export function invalidRange(sizeBytes: number): ObjectError {
  return new ObjectError('InvalidRange', 'The requested range is not satisfiable', {
    objectSizeBytes: sizeBytes,
  });
}

/** A part of a completed object as GetObjectAttributes lists it. */
export interface ManifestPartDetails {
  partNumber: number;
  sizeBytes: number;
  /** Kept in the part's own record (the manifest holds only its address, size and ETag). */
  checksum: ChecksumRecord | null;
}

export interface ManifestPartsPage {
  parts: ManifestPartDetails[];
  isTruncated: boolean;
  nextPartNumberMarker?: number;
}

/** Part records read at once by listManifestParts: a page of 1000 parts costs 1000 stats. */
const partStatsInFlight = 16;

/**
 * The manifest's parts after `partNumberMarker`, at most `maxParts`, each with the checksum its part
 * record was stored with. One stat per part listed, `partStatsInFlight` at a time: `maxParts` (1000
 * at most, as ListParts) bounds the work of a request.
 */
export async function listManifestParts(
  store: ErasureSetContract,
  manifest: Manifest,
  partNumberMarker: number,
  maxParts: number,
): Promise<ManifestPartsPage> {
  const following = manifest.parts.filter((part) => part.partNumber > partNumberMarker);
  const page = following.slice(0, maxParts);
  const parts: ManifestPartDetails[] = new Array(page.length);
  let next = 0;
  let failed = false;
  const statNext = async (): Promise<void> => {
    // After one read fails the page fails: the other readers stop taking parts.
    while (next < page.length && !failed) {
      const index = next;
      next += 1;
      const part = page[index];
      const stored = await store.statVersion(part.address).catch((error: unknown) => {
        failed = true;
        throw error;
      });
      const entry = stored === null ? null : fromMetadata(stored.metadata);
      const checksum = entry?.kind === 'part' ? entry.record.checksum : null;
      parts[index] = { partNumber: part.partNumber, sizeBytes: part.sizeBytes, checksum };
    }
  };
  await Promise.all(Array.from({ length: Math.min(partStatsInFlight, page.length) }, statNext));
  const isTruncated = following.length > page.length;
  return isTruncated
    ? { parts, isTruncated, nextPartNumberMarker: page.at(-1)?.partNumber }
    : { parts, isTruncated };
}
