// GetObject and HeadObject (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html,
// API_HeadObject.html): one version's headers and, for GET, its bytes, whole or one range, after
// the conditional headers; response-* query parameters override the stored headers.

import type { RangeRequest } from '../../objects/ranges.ts';
import type { ObjectVersionRecord } from '../../objects/records.ts';
import { S3Error } from '../errors.ts';
import type { OperationContext, OperationHandler, OperationOf } from '../operation-context.ts';
import { discardRequestBody } from '../request-body.ts';
import { type ResponseHeaders, sendEmpty, sendStream } from '../responses.ts';
import { parseQuery } from '../sigv4-canonical.ts';
import { evaluateReadConditions } from './read-conditions.ts';
import { readCustomerKey } from './server-side-encryption.ts';
import { quoteEtag, versionHeaders, versionIdHeader } from './version-headers.ts';

/**
 * A Range header S3 honours: one "bytes=" range. RFC 9110 lets a server ignore a Range it does not
 * support; S3 serves the whole object for several ranges ("Amazon S3 doesn't support retrieving
 * multiple ranges of data per GET request") and for a syntactically invalid one.
 */
export function parseRangeHeader(value: string | undefined): RangeRequest | undefined {
  if (value === undefined) return undefined;
  const match = /^bytes=(\d{0,16})-(\d{0,16})$/.exec(value.trim());
  if (match === null) return undefined;
  const [, first, last] = match;
  if (first === '' && last === '') return undefined;
  if (first === '') return { suffixLengthBytes: Number(last) };
  if (last === '') return { firstByte: Number(first) };
  if (Number(last) < Number(first)) return undefined;
  return { firstByte: Number(first), lastByte: Number(last) };
}

/** response-content-type and the others: the stored header each one replaces in this response. */
const overrideParameters: readonly (readonly [string, string])[] = [
  ['response-content-type', 'Content-Type'],
  ['response-content-language', 'Content-Language'],
  ['response-expires', 'Expires'],
  ['response-cache-control', 'Cache-Control'],
  ['response-content-disposition', 'Content-Disposition'],
  ['response-content-encoding', 'Content-Encoding'],
];

function responseOverrides(context: OperationContext): ResponseHeaders {
  const url = context.request.url ?? '';
  const question = url.indexOf('?');
  if (question === -1) return {};
  const overrides: ResponseHeaders = {};
  const query = parseQuery(url.slice(question + 1));
  for (const [parameter, header] of overrideParameters) {
    const value = query.find((entry) => entry.name === parameter)?.value;
    // Only signed requests may override (S3 answers an anonymous one with InvalidRequest); every
    // request that reaches a handler here is signed.
    if (value !== undefined) overrides[header] = value;
  }
  return overrides;
}

type ReadEndpoint = OperationOf<'GetObject'> | OperationOf<'HeadObject'>;

/** The byte range a GET or HEAD asks for, from Range or partNumber (never both, as S3). */
async function requestedRange(
  context: OperationContext,
  endpoint: ReadEndpoint,
  record: ObjectVersionRecord,
): Promise<RangeRequest | undefined> {
  const rangeHeader = context.header('range');
  if (endpoint.partNumber === undefined) return parseRangeHeader(rangeHeader);
  if (rangeHeader !== undefined) {
    throw new S3Error('InvalidRequest', {
      message: 'Cannot specify both Range header and partNumber query parameter',
    });
  }
  const part = await context.layer.objects.partRange({
    bucket: record.bucket,
    key: record.key,
    versionId: record.versionId,
    partNumber: endpoint.partNumber,
  });
  const partCount = record.multipart?.partCount ?? 1;
  // An empty object has a part 1 with no bytes: the whole (empty) object is the answer.
  if (part !== null && part.lengthBytes === 0) return undefined;
  if (part === null) {
    throw new S3Error('InvalidPartNumber', {
      elements: { PartNumberRequested: endpoint.partNumber, ActualPartCount: partCount },
    });
  }
  return { firstByte: part.offsetBytes, lastByte: part.offsetBytes + part.lengthBytes - 1 };
}

async function readObject(
  context: OperationContext,
  endpoint: ReadEndpoint,
  withBody: boolean,
): Promise<void> {
  if (!context.request.complete) await discardRequestBody(context.request);
  const address = { bucket: endpoint.bucket, key: endpoint.key, versionId: endpoint.versionId };
  const customerKey = readCustomerKey(context);
  const indexed = context.layer.objects.headIndexed({ ...address, customerKey });
  const record = indexed.record;
  const outcome = evaluateReadConditions(
    {
      ifMatch: context.header('if-match'),
      ifNoneMatch: context.header('if-none-match'),
      ifModifiedSince: context.header('if-modified-since'),
      ifUnmodifiedSince: context.header('if-unmodified-since'),
    },
    record,
  );
  if (outcome === 'precondition-failed') {
    throw new S3Error('PreconditionFailed', { elements: { Condition: conditionName(context) } });
  }
  if (outcome === 'not-modified') {
    sendEmpty(context.response, 304, {
      ...context.commonHeaders,
      ETag: quoteEtag(record.etag),
      'Last-Modified': new Date(record.lastModifiedMs).toUTCString(),
      'x-amz-version-id': versionIdHeader(
        record.versionId,
        endpoint.versionId,
        context.bucketRecord?.versioning,
      ),
    });
    return;
  }
  const range = await requestedRange(context, endpoint, record);
  // sendStream gives every piece back once the socket has it, so a large body may be lent.
  const pinned = {
    ...address,
    versionId: record.versionId,
    range,
    customerKey,
    resolved: indexed,
    lendPieces: true,
  };
  const checksumMode = context.header('x-amz-checksum-mode')?.toUpperCase() === 'ENABLED';
  const headers: ResponseHeaders = {
    ...context.commonHeaders,
    ...versionHeaders(record, {
      askedVersionId: endpoint.versionId,
      bucketVersioning: context.bucketRecord?.versioning,
      // The stored checksum covers the whole object: a part or range answer does not carry it.
      withChecksum: checksumMode && range === undefined,
      partNumberAsked: endpoint.partNumber !== undefined,
    }),
    ...responseOverrides(context),
  };
  if (!withBody) {
    const resolved = range === undefined ? null : resolveForHead(range, record.sizeBytes);
    sendEmpty(context.response, resolved ? 206 : 200, {
      ...headers,
      'Content-Length': resolved ? resolved.lengthBytes : record.sizeBytes,
      'Content-Range': resolved ? contentRange(resolved, record.sizeBytes) : undefined,
    });
    return;
  }
  const result = await context.layer.objects.get(pinned);
  const sent = result.range;
  await sendStream(context.response, sent ? 206 : 200, result.body, {
    ...headers,
    'Content-Length': sent ? sent.lengthBytes : record.sizeBytes,
    'Content-Range': sent ? contentRange(sent, record.sizeBytes) : undefined,
  });
}

function contentRange(range: { offsetBytes: number; lengthBytes: number }, sizeBytes: number): string {
  return `bytes ${range.offsetBytes}-${range.offsetBytes + range.lengthBytes - 1}/${sizeBytes}`;
}

/** HEAD answers a range without reading: the same resolution as the layer's, or 416 InvalidRange. */
function resolveForHead(
  range: RangeRequest,
  sizeBytes: number,
): { offsetBytes: number; lengthBytes: number } {
  const invalid = () =>
    new S3Error('InvalidRange', {
      elements: { RangeRequested: 'bytes', ActualObjectSize: sizeBytes },
      headers: { 'content-range': `bytes */${sizeBytes}` },
    });
  if ('suffixLengthBytes' in range) {
    if (range.suffixLengthBytes <= 0 || sizeBytes === 0) throw invalid();
    const lengthBytes = Math.min(range.suffixLengthBytes, sizeBytes);
    return { offsetBytes: sizeBytes - lengthBytes, lengthBytes };
  }
  if (range.firstByte >= sizeBytes) throw invalid();
  const last = Math.min(range.lastByte ?? sizeBytes - 1, sizeBytes - 1);
  return { offsetBytes: range.firstByte, lengthBytes: last - range.firstByte + 1 };
}

/** S3 names the condition that failed in a 412's <Condition>. */
function conditionName(context: OperationContext): string {
  return context.header('if-match') !== undefined ? 'If-Match' : 'If-Unmodified-Since';
}

export const handleGetObject: OperationHandler<'GetObject'> = (context, endpoint) =>
  readObject(context, endpoint, true);

export const handleHeadObject: OperationHandler<'HeadObject'> = (context, endpoint) =>
  readObject(context, endpoint, false);
