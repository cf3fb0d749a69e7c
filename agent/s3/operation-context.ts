// What the dispatcher (handler.ts) hands to every operation handler: the request and response,
// who is calling (already authenticated and authorised for the operation), and the object layer.
// Handlers live in operations/, one file per operation or per small family of them, each exporting
// `handle<Operation>(context, endpoint)`.
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
  displayName: string;
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
   * The bucket the request names, already checked to exist and to belong to the caller's tenant
   * (AccessDenied otherwise, NoSuchBucket when it does not exist). Undefined for ListBuckets,
   * CreateBucket and a preflight OPTIONS.
   */
  readonly bucketRecord?: BucketRecord;
  /** Headers by lower-case name, first value only. */
  header(name: string): string | undefined;
}

export type OperationOf<Name extends Endpoint['operation']> = Extract<Endpoint, { operation: Name }>;

export type OperationHandler<Name extends Endpoint['operation']> = (
  context: OperationContext,
  endpoint: OperationOf<Name>,
) => Promise<void>;
