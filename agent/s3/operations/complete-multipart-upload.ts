// CompleteMultipartUpload, AbortMultipartUpload and ListParts
// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html, ...). Completion
// checks the part list (InvalidPartOrder, InvalidPart, EntityTooSmall, NoSuchUpload in the layer) and
// derives the object's checksum from the parts' checksums: COMPOSITE ("<checksum of checksums>-N") for
// CRC32, CRC32C, SHA1 and SHA256, FULL_OBJECT (the CRCs combined) for CRC64NVME or when asked. A
// COMPOSITE upload's completion must list every part's checksum; a FULL_OBJECT one need not.
import type { Multipart } from '../../objects/multipart.ts';
import type { ChecksumRecord, PartRecord, UploadRecord } from '../../objects/records.ts';
import {
  type ChecksumAlgorithm,
  type ChecksumType,
  combineFullObjectCrc,
  compositeChecksum,
  defaultChecksumType,
  fullObjectChecksumAlgorithms,
} from '../checksums.ts';
import { S3Error } from '../errors.ts';
import { type OperationContext, type OperationHandler, s3BucketName } from '../operation-context.ts';
import { discardRequestBody } from '../request-body.ts';
import { sendEmpty, sendXml } from '../responses.ts';
import { type CompletedPart, parseCompleteMultipartUpload, type XmlChildren, xmlDocument } from '../xml.ts';
import { ownerChildren, readConfigurationXml } from './bucket-common.ts';
import { readWriteConditions } from './object-attributes.ts';
import { encryptionHeaders } from './server-side-encryption.ts';
import { checksumElementName, checksumElements, quoteEtag, versionIdHeader } from './version-headers.ts';

/** Every part of an upload, in part number order, paging through the layer's bounded listing. */
function allParts(
  multipart: Multipart,
  upload: { bucket: string; key: string; uploadId: string },
): PartRecord[] {
  const parts: PartRecord[] = [];
  let partNumberMarker = 0;
  for (;;) {
    const page = multipart.listParts({ ...upload, partNumberMarker });
    parts.push(...page.parts);
    if (!page.isTruncated || page.nextPartNumberMarker === undefined) return parts;
    partNumberMarker = page.nextPartNumberMarker;
  }
}

/**
 * How the object's checksum derives from the parts': CRC64NVME is always FULL_OBJECT; otherwise the
 * type chosen at CreateMultipartUpload, else the one this request names (S3 lets Complete say it).
 */
function completedChecksumType(
  context: OperationContext,
  upload: UploadRecord,
  algorithm: ChecksumAlgorithm,
): ChecksumType {
  const askedType = upload.checksumType ?? context.header('x-amz-checksum-type')?.toUpperCase();
  const fullObject =
    algorithm === 'CRC64NVME' ||
    (askedType === 'FULL_OBJECT' && fullObjectChecksumAlgorithms.includes(algorithm));
  return fullObject ? 'FULL_OBJECT' : 'COMPOSITE';
}

/**
 * A COMPOSITE checksum is made of the part checksums the client lists, so the completion of an upload
 * created with a COMPOSITE `algorithm` needs one for every part: else InvalidRequest "The upload was
 * created using a crc32 checksum. The complete request must include the checksum for each part. It
 * was missing for part 2 in the request." A FULL_OBJECT upload needs none: S3 combines the checksums
 * it holds (captured from S3 in openstack/swift's test/s3api/test_object_checksums.py;
 * apache/opendal#4580).
 */
export function requireListedPartChecksums(
  algorithm: ChecksumAlgorithm,
  requested: readonly CompletedPart[],
): void {
  const missing = requested.find((part) => part.checksums[checksumElementName(algorithm)] === undefined);
  if (missing === undefined) return;
  throw new S3Error('InvalidRequest', {
    message: `The upload was created using a ${algorithm.toLowerCase()} checksum. The complete request must include the checksum for each part. It was missing for part ${missing.partNumber} in the request.`,
  });
}

/**
 * A checksum the request lists for a part must be the one the part was stored with: another value,
 * another algorithm, or one for a part stored without a checksum is InvalidPart, as S3 answers.
 */
export function requireListedChecksumsStored(
  uploadId: string,
  requested: readonly CompletedPart[],
  stored: ReadonlyMap<number, PartRecord>,
): void {
  for (const part of requested) {
    const checksum = stored.get(part.partNumber)?.checksum ?? null;
    for (const [element, value] of Object.entries(part.checksums)) {
      if (
        checksum === null ||
        checksumElementName(checksum.algorithm) !== element ||
        checksum.value !== value
      ) {
        throw new S3Error('InvalidPart', {
          elements: { UploadId: uploadId, PartNumber: part.partNumber },
        });
      }
    }
  }
}

/**
 * The completed object's checksum: only when every chosen part carries one of the same algorithm (the
 * upload's, when it declared one; parts stored before S3's rules were enforced may not).
 */
async function completedChecksum(
  context: OperationContext,
  upload: UploadRecord,
  requested: CompletedPart[],
  stored: Map<number, PartRecord>,
): Promise<ChecksumRecord | null> {
  requireListedChecksumsStored(upload.uploadId, requested, stored);
  const chosen = requested.map((part) => stored.get(part.partNumber));
  const algorithm = upload.checksumAlgorithm ?? chosen[0]?.checksum?.algorithm;
  if (algorithm === undefined || algorithm === null) return null;
  const values: { checksumBase64: string; sizeBytes: number }[] = [];
  for (const part of chosen) {
    if (part === undefined || part.checksum === null || part.checksum.algorithm !== algorithm) return null;
    values.push({ checksumBase64: part.checksum.value, sizeBytes: part.sizeBytes });
  }
  if (completedChecksumType(context, upload, algorithm) === 'FULL_OBJECT') {
    return { algorithm, value: combineFullObjectCrc(algorithm, values), type: 'FULL_OBJECT' };
  }
  const value = await compositeChecksum(
    algorithm,
    values.map((part) => part.checksumBase64),
  );
  return { algorithm, value, type: 'COMPOSITE' };
}

/** The object's URL, as S3 writes it in <Location>. */
function locationOf(context: OperationContext, bucket: string, key: string): string {
  const host = context.header('host') ?? 'localhost';
  const scheme = (context.request.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  const encodedKey = key
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
  return `${scheme}://${host}/${encodeURIComponent(bucket)}/${encodedKey}`;
}

export const handleCompleteMultipartUpload: OperationHandler<'CompleteMultipartUpload'> = async (
  context,
  endpoint,
) => {
  const conditions = readWriteConditions(context);
  const requested = parseCompleteMultipartUpload(await readConfigurationXml(context));
  const address = { bucket: endpoint.bucket, key: endpoint.key, uploadId: endpoint.uploadId };
  // No upload: a Complete retried after its success, which the layer answers again, or NoSuchUpload.
  const upload = context.layer.multipart.findUpload(address);
  let checksum: ChecksumRecord | null = null;
  if (upload !== null) {
    const algorithm = upload.checksumAlgorithm;
    if (algorithm !== null && completedChecksumType(context, upload, algorithm) === 'COMPOSITE') {
      requireListedPartChecksums(algorithm, requested);
    }
    const stored = new Map(allParts(context.layer.multipart, address).map((part) => [part.partNumber, part]));
    // Parts the layer will refuse (missing, wrong ETag) make the checksum moot: the layer's error wins.
    checksum = requested.every((part) => stored.has(part.partNumber))
      ? await completedChecksum(context, upload, requested, stored)
      : null;
  }
  const record = await context.layer.multipart.complete({
    ...address,
    ...conditions,
    parts: requested.map((part) => ({ partNumber: part.partNumber, etag: part.etag })),
    checksum,
  });
  const checksumChildren = checksumElements(record.checksum, { withType: true });
  sendXml(
    context.response,
    200,
    xmlDocument('CompleteMultipartUploadResult', [
      ['Location', locationOf(context, s3BucketName(context), endpoint.key)],
      ['Bucket', s3BucketName(context)],
      ['Key', endpoint.key],
      ['ETag', quoteEtag(record.etag)],
      ...checksumChildren,
    ]),
    {
      ...context.commonHeaders,
      'x-amz-version-id': versionIdHeader(record.versionId, undefined, context.bucketRecord?.versioning),
      ...(record.checksum === null ? {} : { 'x-amz-checksum-type': record.checksum.type }),
      ...encryptionHeaders(record.encryption),
    },
  );
};

export const handleAbortMultipartUpload: OperationHandler<'AbortMultipartUpload'> = async (
  context,
  endpoint,
) => {
  if (!context.request.complete) await discardRequestBody(context.request);
  await context.layer.multipart.abort({
    bucket: endpoint.bucket,
    key: endpoint.key,
    uploadId: endpoint.uploadId,
  });
  sendEmpty(context.response, 204, context.commonHeaders);
};

export const handleListParts: OperationHandler<'ListParts'> = async (context, endpoint) => {
  if (!context.request.complete) await discardRequestBody(context.request);
  const result = context.layer.multipart.listParts({
    bucket: endpoint.bucket,
    key: endpoint.key,
    uploadId: endpoint.uploadId,
    maxParts: endpoint.maxParts,
    partNumberMarker: endpoint.partNumberMarker,
  });
  const algorithm = result.upload.checksumAlgorithm;
  const parts: XmlChildren = result.parts.map((part) => [
    'Part',
    [
      ['PartNumber', part.partNumber],
      ['LastModified', new Date(part.lastModifiedMs)],
      ['ETag', quoteEtag(part.etag)],
      ['Size', part.sizeBytes],
      ...checksumElements(part.checksum, { withType: false }),
    ],
  ]);
  sendXml(
    context.response,
    200,
    xmlDocument('ListPartsResult', [
      ['Bucket', s3BucketName(context)],
      ['Key', endpoint.key],
      ['UploadId', endpoint.uploadId],
      ['PartNumberMarker', endpoint.partNumberMarker ?? 0],
      ['NextPartNumberMarker', result.nextPartNumberMarker ?? result.parts.at(-1)?.partNumber ?? 0],
      ['MaxParts', endpoint.maxParts],
      ['IsTruncated', result.isTruncated],
      ...parts,
      ['Initiator', ownerChildren(context.caller)],
      ['Owner', ownerChildren(context.caller)],
      ['StorageClass', result.upload.storageClass],
      ['ChecksumAlgorithm', algorithm ?? undefined],
      [
        'ChecksumType',
        algorithm ? (result.upload.checksumType ?? defaultChecksumType(algorithm)) : undefined,
      ],
    ]),
    context.commonHeaders,
  );
};
