// PutObject (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html): the body streams
// into the object layer while it is counted and hashed; the integrity checks (declared length,
// x-amz-content-sha256, Content-MD5, x-amz-checksum-* in a header or an aws-chunked trailer) conclude
// in the layer's verify hook, before the commit, so a body that fails any of them stores nothing.
import { maximumSinglePutBytes } from '../../objects/objects.ts';
import type { ChecksumRecord } from '../../objects/records.ts';
import type { BodyChecksumResult } from '../checksums.ts';
import { S3Error } from '../errors.ts';
import type { OperationContext, OperationHandler } from '../operation-context.ts';
import { openRequestBody } from '../request-body.ts';
import { sendEmpty } from '../responses.ts';
import { hasObjectLockHeaders, readWriteAttributes, readWriteConditions } from './object-attributes.ts';
import { encryptionHeaders } from './server-side-encryption.ts';
import { checksumHeaders, quoteEtag, versionIdHeader } from './version-headers.ts';

/** An AbortSignal that fires when the client goes away before its request body was fully read. */
export function clientGoneSignal(context: OperationContext): AbortSignal {
  const controller = new AbortController();
  const { request } = context;
  const onClose = () => {
    if (!request.complete) controller.abort(new S3Error('IncompleteBody'));
  };
  request.once('close', onClose);
  context.response.once('close', () => request.off('close', onClose));
  return controller.signal;
}

/** The additional checksum a verified body carried, as the layer records it. */
export function checksumRecordOf(result: BodyChecksumResult): ChecksumRecord | null {
  if (result.algorithm === undefined || result.checksumBase64 === undefined) return null;
  return { algorithm: result.algorithm, value: result.checksumBase64, type: 'FULL_OBJECT' };
}

/**
 * "The Content-MD5 or x-amz-sdk-checksum-algorithm header is required for any request to upload an
 * object with a retention period configured using Amazon S3 Object Lock."
 */
function requireDigestForObjectLock(context: OperationContext): void {
  if (!hasObjectLockHeaders(context)) return;
  const declared =
    context.header('content-md5') !== undefined ||
    context.header('x-amz-sdk-checksum-algorithm') !== undefined ||
    context.header('x-amz-trailer') !== undefined ||
    Object.keys(context.request.headers).some((name) => name.startsWith('x-amz-checksum-'));
  if (!declared) {
    throw new S3Error('InvalidRequest', {
      message:
        'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters',
    });
  }
}

export const handlePutObject: OperationHandler<'PutObject'> = async (context, endpoint) => {
  const attributes = readWriteAttributes(context);
  const conditions = readWriteConditions(context);
  const body = openRequestBody(context.request, context.identity, {
    maximumBytes: maximumSinglePutBytes,
    // One MD5, for the ETag and Content-MD5, with the body's other digests (in a worker when large).
    alwaysMd5: true,
  });
  requireDigestForObjectLock(context);
  let verified: BodyChecksumResult = {};
  // The layer reads `checksum` from the plan after `verify` has run, so the value computed while the
  // body streamed is recorded with the version in the same commit.
  const plan = {
    bucket: endpoint.bucket,
    key: endpoint.key,
    body: body.bytes,
    declaredSizeBytes: body.declaredLengthBytes,
    ...attributes,
    ...conditions,
    checksum: null as ChecksumRecord | null,
    signal: clientGoneSignal(context),
    verify: async () => {
      verified = await body.finish();
      plan.checksum = checksumRecordOf(verified);
    },
    bodyMd5Hex: async () => (await body.finish()).md5Hex!,
    // The ETag is the body's (its MD5, sealed under SSE-C): the layer decides it.
    describe: (summary: { sizeBytes: number }) => ({ sizeBytes: summary.sizeBytes }),
  };
  const record = await context.layer.objects.commit(plan);
  sendEmpty(context.response, 200, {
    ...context.commonHeaders,
    ETag: quoteEtag(record.etag),
    'x-amz-version-id': versionIdHeader(record.versionId, undefined, context.bucketRecord?.versioning),
    ...checksumHeaders(record.checksum),
    ...encryptionHeaders(record.encryption),
  });
};
