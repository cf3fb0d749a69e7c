// What the dispatcher (handler.ts) hands to every operation handler: the request and response,
// who is calling (already authenticated and authorised for the operation), and the object layer.
// Handlers live in operations/, one file per operation or per small family of them, each exporting
// `handle<Operation>(context, endpoint)`.
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KeyRole } from '../objects/identities.ts';
import type { ObjectLayer } from '../objects/object-layer.ts';
import type { BucketRecord } from '../objects/records.ts';
import type { Endpoint } from './endpoint.ts';
import type { ResponseHeaders } from './responses.ts';
import type { VerifiedIdentity } from './sigv4.ts';

export interface Caller {
  tenantId: string;
  accessKeyId: string;
  role: KeyRole;
}

export interface OperationContext {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly requestId: string;
  /** The verified signature: how the body is signed (for openRequestBody) and when it was sent. */
  readonly identity: VerifiedIdentity;
  readonly caller: Caller;
  readonly layer: ObjectLayer;
  /** The region this agent answers for (LocationConstraint, SigV4 scope). */
  readonly region: string;
  readonly clock: () => number;
  /** x-amz-request-id, x-amz-id-2 and Server: spread them into every response's headers. */
  readonly commonHeaders: ResponseHeaders;
  /**
   * The bucket the request names, found in the namespace of the caller's tenant (NoSuchBucket
   * otherwise, whether or not another tenant has a bucket of that name). The endpoint a handler
   * receives names it by its id (`bucketRecord.id`, what the object layer takes); answers show its S3
   * name (`bucketRecord.name`). Undefined for ListBuckets and CreateBucket (whose endpoint keeps the
   * S3 name), and for a preflight OPTIONS without a bucket whose CORS rules allow it.
   */
  readonly bucketRecord?: Readonly<BucketRecord>;
  /** Headers by lower-case name, first value only. */
  header(name: string): string | undefined;
}

export type OperationOf<Name extends Endpoint['operation']> = Extract<Endpoint, { operation: Name }>;

export type OperationHandler<Name extends Endpoint['operation']> = (
  context: OperationContext,
  endpoint: OperationOf<Name>,
) => Promise<void>;

/**
 * The S3 name of the bucket the request names, which every answer shows: the endpoint a handler
 * receives carries the bucket's id instead (see OperationContext.bucketRecord).
 */
export function s3BucketName(context: OperationContext): string {
  assert.ok(context.bucketRecord, 'an operation on a bucket is dispatched with its bucket record');
  return context.bucketRecord.name;
}
