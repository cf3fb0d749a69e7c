// The pure rules under the object handlers: conditional read precedence, Range parsing, and the write
// headers (metadata size, tags, storage class, Object Lock) with the codes S3 answers.
import type { IncomingMessage } from 'node:http';
import test from 'ava';
import { S3Error } from '../../agent/s3/errors.ts';
import type { OperationContext } from '../../agent/s3/operation-context.ts';
import { parseRangeHeader } from '../../agent/s3/operations/get-object.ts';
import {
  readObjectLockHeaders,
  readStorageClass,
  readSystemHeaders,
  readTaggingHeader,
  readUserMetadata,
  readWriteConditions,
} from '../../agent/s3/operations/object-attributes.ts';
import {
  type ConditionOutcome,
  etagListMatches,
  evaluateReadConditions,
} from '../../agent/s3/operations/read-conditions.ts';

const nowMs = Date.parse('2026-06-01T12:00:00Z');

/** Only what the header readers use: the headers and the clock. */
function contextWith(headers: Record<string, string>): OperationContext {
  const lower = Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
  return {
    request: { headers: lower } as unknown as IncomingMessage,
    clock: () => nowMs,
    header: (name: string) => lower[name],
  } as unknown as OperationContext;
}

function code(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof S3Error) return `${error.status} ${error.code}`;
    throw error;
  }
  return 'no error';
}

const version = { etag: 'abc', lastModifiedMs: Date.parse('2026-05-01T10:00:00.750Z') };
const before = 'Thu, 30 Apr 2026 10:00:00 GMT';
const sameSecond = 'Fri, 01 May 2026 10:00:00 GMT';

test('read conditions: S3 precedence, If-Match over If-Unmodified-Since, 412 before 304', (t) => {
  const table: [Parameters<typeof evaluateReadConditions>[0], ConditionOutcome][] = [
    [{}, 'proceed'],
    [{ ifMatch: '"abc"' }, 'proceed'],
    [{ ifMatch: '"other", "abc"' }, 'proceed'],
    [{ ifMatch: '*' }, 'proceed'],
    [{ ifMatch: '"other"' }, 'precondition-failed'],
    [{ ifUnmodifiedSince: before }, 'precondition-failed'],
    [{ ifUnmodifiedSince: sameSecond }, 'proceed'],
    // "If-Match evaluates to true and If-Unmodified-Since evaluates to false: 200 OK".
    [{ ifMatch: 'abc', ifUnmodifiedSince: before }, 'proceed'],
    [{ ifNoneMatch: '"abc"' }, 'not-modified'],
    [{ ifNoneMatch: '"other"' }, 'proceed'],
    [{ ifModifiedSince: sameSecond }, 'not-modified'],
    [{ ifModifiedSince: before }, 'proceed'],
    // "If-None-Match evaluates to false and If-Modified-Since evaluates to true: 304 Not Modified".
    [{ ifNoneMatch: '"abc"', ifModifiedSince: before }, 'not-modified'],
    [{ ifNoneMatch: '"other"', ifModifiedSince: sameSecond }, 'proceed'],
    [{ ifMatch: '"other"', ifNoneMatch: '"abc"' }, 'precondition-failed'],
    // An unparseable date is ignored (RFC 7232).
    [{ ifModifiedSince: 'yesterday' }, 'proceed'],
  ];
  for (const [conditions, expected] of table) {
    t.is(evaluateReadConditions(conditions, version), expected, JSON.stringify(conditions));
  }
});

test('etag lists: quoted, bare, weak and * forms match', (t) => {
  t.true(etagListMatches('W/"abc"', 'abc'));
  t.true(etagListMatches('abc', 'abc'));
  t.false(etagListMatches('"ab"', 'abc'));
});

test('Range: one range is honoured; several ranges and malformed ones are ignored as S3 does', (t) => {
  t.deepEqual(parseRangeHeader('bytes=0-99'), { firstByte: 0, lastByte: 99 });
  t.deepEqual(parseRangeHeader('bytes=100-'), { firstByte: 100 });
  t.deepEqual(parseRangeHeader('bytes=-5'), { suffixLengthBytes: 5 });
  for (const ignored of ['bytes=0-1,3-4', 'bytes=5-3', 'items=0-1', 'bytes=-', 'bytes=a-b']) {
    t.is(parseRangeHeader(ignored), undefined, ignored);
  }
  t.is(parseRangeHeader(undefined), undefined);
});

test('write headers: system headers stored without aws-chunked, metadata without its prefix', (t) => {
  const context = contextWith({
    'Content-Type': 'text/csv',
    'Content-Encoding': 'gzip,aws-chunked',
    'Cache-Control': 'no-cache',
    'x-amz-meta-Owner': 'ops',
  });
  t.deepEqual(readSystemHeaders(context), {
    contentType: 'text/csv',
    contentEncoding: 'gzip',
    cacheControl: 'no-cache',
  });
  t.deepEqual(readSystemHeaders(contextWith({ 'content-encoding': 'aws-chunked' })), {});
  t.deepEqual(readUserMetadata(context), { owner: 'ops' });
});

test('write headers: user metadata over 2 KB is 400 MetadataTooLarge', (t) => {
  t.is(
    code(() => readUserMetadata(contextWith({ 'x-amz-meta-a': 'v'.repeat(2048) }))),
    '400 MetadataTooLarge',
  );
  t.is(
    code(() => readUserMetadata(contextWith({ 'x-amz-meta-a': 'v'.repeat(2047) }))),
    'no error',
  );
});

test('write headers: x-amz-tagging is a URL query with S3 tag limits', (t) => {
  t.deepEqual(readTaggingHeader(contextWith({ 'x-amz-tagging': 'a=1&b=two%20words&c=' })), {
    a: '1',
    b: 'two words',
    c: '',
  });
  const eleven = Array.from({ length: 11 }, (_, index) => `k${index}=v`).join('&');
  t.is(
    code(() => readTaggingHeader(contextWith({ 'x-amz-tagging': eleven }))),
    '400 BadRequest',
  );
  t.is(
    code(() => readTaggingHeader(contextWith({ 'x-amz-tagging': `${'k'.repeat(129)}=v` }))),
    '400 InvalidTag',
  );
  t.is(
    code(() => readTaggingHeader(contextWith({ 'x-amz-tagging': `k=${'v'.repeat(257)}` }))),
    '400 InvalidTag',
  );
  t.is(
    code(() => readTaggingHeader(contextWith({ 'x-amz-tagging': 'k=1&k=2' }))),
    '400 InvalidTag',
  );
  t.is(
    code(() => readTaggingHeader(contextWith({ 'x-amz-tagging': 'k=%E0%A4%A' }))),
    '400 InvalidTag',
  );
});

test('write headers: storage classes S3 knows are kept, others are 400 InvalidStorageClass', (t) => {
  t.is(readStorageClass(contextWith({ 'x-amz-storage-class': 'STANDARD' })), 'STANDARD');
  t.is(readStorageClass(contextWith({ 'x-amz-storage-class': 'GLACIER_IR' })), 'GLACIER_IR');
  t.is(
    code(() => readStorageClass(contextWith({ 'x-amz-storage-class': 'standard' }))),
    '400 InvalidStorageClass',
  );
});

test('write headers: Object Lock mode and date go together, in the future; legal hold is ON or OFF', (t) => {
  const future = '2026-07-01T00:00:00Z';
  t.deepEqual(
    readObjectLockHeaders(
      contextWith({
        'x-amz-object-lock-mode': 'COMPLIANCE',
        'x-amz-object-lock-retain-until-date': future,
        'x-amz-object-lock-legal-hold': 'OFF',
      }),
    ),
    { retention: { mode: 'COMPLIANCE', retainUntilMs: Date.parse(future) }, legalHold: false },
  );
  const refusals: Record<string, string>[] = [
    { 'x-amz-object-lock-mode': 'COMPLIANCE' },
    { 'x-amz-object-lock-retain-until-date': future },
    { 'x-amz-object-lock-mode': 'FOREVER', 'x-amz-object-lock-retain-until-date': future },
    { 'x-amz-object-lock-mode': 'GOVERNANCE', 'x-amz-object-lock-retain-until-date': 'next year' },
    { 'x-amz-object-lock-mode': 'GOVERNANCE', 'x-amz-object-lock-retain-until-date': '2026-01-01T00:00:00Z' },
    { 'x-amz-object-lock-legal-hold': 'on' },
  ];
  for (const headers of refusals) {
    t.is(
      code(() => readObjectLockHeaders(contextWith(headers))),
      '400 InvalidArgument',
      JSON.stringify(headers),
    );
  }
});

test('write conditions: If-None-Match takes only *, anything else is 501 NotImplemented', (t) => {
  t.deepEqual(readWriteConditions(contextWith({ 'if-none-match': '*' })), {
    ifMatch: undefined,
    ifNoneMatch: '*',
  });
  t.deepEqual(readWriteConditions(contextWith({ 'if-match': '"e"' })), {
    ifMatch: '"e"',
    ifNoneMatch: undefined,
  });
  t.is(
    code(() => readWriteConditions(contextWith({ 'if-none-match': '"e"' }))),
    '501 NotImplemented',
  );
});
