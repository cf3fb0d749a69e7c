// CreateMultipartUpload, UploadPart and UploadPartCopy
// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html, API_UploadPart.html,
// API_UploadPartCopy.html). A part body is checked like a PutObject body (length, sha256, Content-MD5,
// x-amz-checksum-*) inside the layer's verify hook, so a bad part is never recorded. A part of an
// upload created with a checksum algorithm must declare that algorithm, which is checked from the
// headers before a byte of the body is read.
import { maximumPartSizeBytes } from '../../objects/multipart.ts';
import type { ChecksumRecord, UploadRecord } from '../../objects/records.ts';
import {
  type ChecksumAlgorithm,
  defaultChecksumType,
  fullObjectChecksumAlgorithms,
  isChecksumAlgorithm,
} from '../checksums.ts';
import { S3Error } from '../errors.ts';
import { type OperationHandler, s3BucketName } from '../operation-context.ts';
import { discardRequestBody, openRequestBody } from '../request-body.ts';
import { sendEmpty, sendXml } from '../responses.ts';
import { xmlDocument } from '../xml.ts';
import { resolveCopySource } from './copy-source.ts';
import { readWriteAttributes } from './object-attributes.ts';
import { checksumRecordOf, clientGoneSignal } from './put-object.ts';
import { encryptionHeaders, readCopySourceCustomerKey, readCustomerKey } from './server-side-encryption.ts';
import {
  checksumElements,
  checksumHeaders,
  httpDate,
  quoteEtag,
  versionIdHeader,
} from './version-headers.ts';

type UploadChecksum = { algorithm?: ChecksumRecord['algorithm']; type?: ChecksumRecord['type'] };

/**
 * x-amz-checksum-algorithm and x-amz-checksum-type of CreateMultipartUpload, checked as S3 does:
 * CRC64NVME is always FULL_OBJECT; SHA1 and SHA256 can only be COMPOSITE; CRC32 and CRC32C default to
 * COMPOSITE and may ask for FULL_OBJECT.
 */
function readUploadChecksum(header: (name: string) => string | undefined): UploadChecksum {
  const algorithm = header('x-amz-checksum-algorithm')?.toUpperCase();
  const type = header('x-amz-checksum-type')?.toUpperCase();
  if (algorithm !== undefined && !isChecksumAlgorithm(algorithm)) {
    throw new S3Error('InvalidRequest', { message: 'Checksum algorithm provided is unsupported.' });
  }
  if (type !== undefined && type !== 'COMPOSITE' && type !== 'FULL_OBJECT') {
    throw new S3Error('InvalidRequest', { message: 'Value for x-amz-checksum-type header is invalid.' });
  }
  if (type !== undefined && algorithm === undefined) {
    throw new S3Error('InvalidRequest', {
      message: 'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.',
    });
  }
  if (algorithm === undefined) return {};
  if (type === 'FULL_OBJECT' && !fullObjectChecksumAlgorithms.includes(algorithm)) {
    throw new S3Error('InvalidRequest', {
      message: `The FULL_OBJECT checksum type cannot be used with the ${algorithm.toLowerCase()} checksum algorithm.`,
    });
  }
  if (type === 'COMPOSITE' && algorithm === 'CRC64NVME') {
    throw new S3Error('InvalidRequest', {
      message: 'The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm.',
    });
  }
  return { algorithm, type: type ?? defaultChecksumType(algorithm) };
}

/**
 * The checksum algorithm of a part of `upload` whose request declares `declared`, as S3 rules it.
 * An upload created with an algorithm takes parts of that algorithm only; any other is InvalidRequest
 * "Checksum Type mismatch occurred, expected checksum Type: crc32, actual checksum Type: sha256". A
 * part that declares none is refused the same way ("actual checksum Type: null") by a COMPOSITE
 * upload, whose object checksum is made of the part checksums the client lists at completion, while
 * a FULL_OBJECT upload takes it and S3 computes the part's checksum itself (captured from S3 in
 * openstack/swift's test/s3api/test_object_checksums.py; versity/versitygw#1342). Returns the
 * algorithm to compute for the part: the declared one, or the upload's when S3 computes it.
 */
export function partChecksumAlgorithm(
  upload: Pick<UploadRecord, 'checksumAlgorithm' | 'checksumType'>,
  declared: ChecksumAlgorithm | undefined,
): ChecksumAlgorithm | undefined {
  const expected = upload.checksumAlgorithm;
  if (expected === null || declared === expected) return declared;
  const type = upload.checksumType ?? defaultChecksumType(expected);
  if (declared === undefined && type === 'FULL_OBJECT') return expected;
  throw new S3Error('InvalidRequest', {
    message: `Checksum Type mismatch occurred, expected checksum Type: ${expected.toLowerCase()}, actual checksum Type: ${declared?.toLowerCase() ?? 'null'}`,
  });
}

export const handleCreateMultipartUpload: OperationHandler<'CreateMultipartUpload'> = async (
  context,
  endpoint,
) => {
  if (!context.request.complete) await discardRequestBody(context.request);
  const attributes = readWriteAttributes(context);
  const checksum = readUploadChecksum(context.header);
  const upload = await context.layer.multipart.create({
    bucket: endpoint.bucket,
    key: endpoint.key,
    ...attributes,
    checksumAlgorithm: checksum.algorithm,
    checksumType: checksum.type,
  });
  sendXml(
    context.response,
    200,
    xmlDocument('InitiateMultipartUploadResult', [
      ['Bucket', s3BucketName(context)],
      ['Key', endpoint.key],
      ['UploadId', upload.uploadId],
    ]),
    {
      ...context.commonHeaders,
      'x-amz-checksum-algorithm': checksum.algorithm,
      'x-amz-checksum-type': checksum.type,
      ...encryptionHeaders(upload.encryption),
    },
  );
};

export const handleUploadPart: OperationHandler<'UploadPart'> = async (context, endpoint) => {
  const address = { bucket: endpoint.bucket, key: endpoint.key, uploadId: endpoint.uploadId };
  const body = openRequestBody(context.request, context.identity, {
    maximumBytes: maximumPartSizeBytes,
    // The part's ETag is its MD5 (sealed under SSE-C by the layer): hashed once, with the body's
    // other digests (in a worker when large).
    alwaysMd5: true,
    // The checksum headers are refused first, then the upload is looked up: both before the body.
    checksumAlgorithm: (declared) =>
      partChecksumAlgorithm(context.layer.multipart.getUpload(address), declared),
  });
  // The layer reads `checksum` from this input after `verify`: the value computed while the body
  // streamed is recorded with the part.
  const input = {
    ...address,
    partNumber: endpoint.partNumber,
    body: body.bytes,
    declaredSizeBytes: body.declaredLengthBytes,
    checksum: null as ChecksumRecord | null,
    signal: clientGoneSignal(context),
    customerKey: readCustomerKey(context),
    verify: async () => {
      input.checksum = checksumRecordOf(await body.finish());
    },
    bodyMd5Hex: async () => (await body.finish()).md5Hex!,
  };
  const part = await context.layer.multipart.uploadPart(input);
  sendEmpty(context.response, 200, {
    ...context.commonHeaders,
    ETag: quoteEtag(part.etag),
    ...checksumHeaders(part.checksum),
    'x-amz-checksum-type': undefined,
  });
};

export const handleUploadPartCopy: OperationHandler<'UploadPartCopy'> = async (context, endpoint) => {
  if (!context.request.complete) await discardRequestBody(context.request);
  const source = resolveCopySource(context, endpoint.copySource);
  const range = endpoint.copySourceRange;
  if (range !== undefined && range.last >= source.sizeBytes) {
    throw new S3Error('InvalidArgument', {
      message: `Range specified is not valid for source object of size: ${source.sizeBytes}`,
      elements: {
        ArgumentName: 'x-amz-copy-source-range',
        ArgumentValue: context.header('x-amz-copy-source-range'),
      },
    });
  }
  const { part, sourceVersionId } = await context.layer.copies.uploadPartCopy({
    source: { ...endpoint.copySource, bucket: source.bucket, versionId: source.versionId },
    range: range === undefined ? undefined : { firstByte: range.first, lastByte: range.last },
    bucket: endpoint.bucket,
    key: endpoint.key,
    uploadId: endpoint.uploadId,
    partNumber: endpoint.partNumber,
    signal: clientGoneSignal(context),
    customerKey: readCustomerKey(context),
    sourceCustomerKey: readCopySourceCustomerKey(context),
  });
  sendXml(
    context.response,
    200,
    xmlDocument('CopyPartResult', [
      ['ETag', quoteEtag(part.etag)],
      ['LastModified', new Date(part.lastModifiedMs)],
      // Present when the upload was created with a checksum algorithm: S3 computes it for the copy.
      ...checksumElements(part.checksum, { withType: false }),
    ]),
    {
      ...context.commonHeaders,
      'x-amz-copy-source-version-id': versionIdHeader(sourceVersionId, endpoint.copySource.versionId),
      'Last-Modified': httpDate(part.lastModifiedMs),
    },
  );
};
