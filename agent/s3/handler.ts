// The S3 request pipeline: authenticate (SigV4), parse the one Endpoint the request asks for,
// authorise the caller for it (its key's role), find the bucket it names in the caller's own
// namespace, dispatch to its handler, and turn anything thrown into the S3 error AWS would send.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type RequestContext, type RequestHandler, settleUnreadBody } from '../http/server.ts';
import type { AgentMetrics } from '../metrics/agent-metrics.ts';
import type { AuditLog } from '../objects/audit/audit-log.ts';
import { callerScope } from '../objects/caller-scope.ts';
import type { Identities } from '../objects/identities.ts';
import type { ObjectLayer } from '../objects/object-layer.ts';
import type { BucketRecord } from '../objects/records.ts';
import { type Endpoint, type Operation, parseEndpoint } from './endpoint.ts';
import { S3Error, toS3Error } from './errors.ts';
import type { Caller, OperationContext, OperationHandler } from './operation-context.ts';
import { bucketOperations } from './operations/bucket-operations.ts';
import {
  matchCorsRule,
  parseRequestedHeaders,
  setActualRequestCorsHeaders,
} from './operations/cors-rules.ts';
import { objectOperations } from './operations/object-operations.ts';
import {
  type SosapiServingOptions,
  serveSosapiObject,
  withSosapiListing,
} from './operations/sosapi-serving.ts';
import { roleAllows } from './permissions.ts';
import { type RequestFacts, RequestObserver } from './request-observer.ts';
import { commonHeaders, sendError } from './responses.ts';
import { SigV4Verifier, type VerifiedIdentity } from './sigv4.ts';
import { precheckWrite } from './write-precheck.ts';

export interface S3HandlerOptions {
  layer: ObjectLayer;
  identities: Identities;
  region: string;
  /** Virtual-hosted-style requests are recognised under this domain. */
  baseDomain: string | null;
  clock?: () => number;
  /** Veeam SOSAPI virtual objects (default: served, model "Coffre", capacity from quotas only). */
  sosapi?: SosapiServingOptions;
  /** Called with every failed request's error (5xx ones carry a cause worth logging). */
  onError?: (error: S3Error, endpoint: string) => void;
  /** Per-tenant audit log of every request that changes something or is refused. */
  audit?: AuditLog;
  /** Request counts, latencies and bytes per operation. */
  metrics?: AgentMetrics;
  /** Called when an audit record cannot be written. */
  onAuditFailure?: (error: unknown) => void;
}

type OperationTable = { [Name in Operation]?: OperationHandler<Name> };

const operations: OperationTable = { ...bucketOperations, ...objectOperations };

/** Operations that name a bucket which must exist and belong to the caller. */
function bucketOf(endpoint: Endpoint): string | undefined {
  if (endpoint.operation === 'CreateBucket' || endpoint.operation === 'ListBuckets') return undefined;
  return 'bucket' in endpoint ? endpoint.bucket : undefined;
}

function splitUrl(url: string): { rawPath: string; rawQuery: string } {
  const question = url.indexOf('?');
  return question === -1
    ? { rawPath: url, rawQuery: '' }
    : { rawPath: url.slice(0, question), rawQuery: url.slice(question + 1) };
}

/**
 * x-amz-expected-bucket-owner (and x-amz-source-expected-bucket-owner for a copy's source): a
 * request that names an owner other than the bucket's is AccessDenied, as S3 answers it. A bucket
 * name resolves in the caller's own namespace, so its owner is always the caller's tenant, whose id
 * is the Owner ID of every listing.
 */
function checkExpectedOwners(request: IncomingMessage, endpoint: Endpoint, caller: Caller): void {
  if (!('bucket' in endpoint) || endpoint.bucket === undefined) return;
  for (const name of ['x-amz-expected-bucket-owner', 'x-amz-source-expected-bucket-owner']) {
    const expected = firstHeader(request, name);
    if (expected !== undefined && expected !== caller.tenantId) throw new S3Error('AccessDenied');
  }
}

function firstHeader(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function anonymousPreflight(clock: () => number): { identity: VerifiedIdentity; caller: Caller } {
  return {
    identity: {
      accessKeyId: '',
      authentication: 'header',
      region: '',
      requestTimeMs: clock(),
      payload: { kind: 'unsigned' },
    },
    caller: { tenantId: '', accessKeyId: '', role: 'read-only' },
  };
}

export function createS3Handler(options: S3HandlerOptions): RequestHandler {
  const clock = options.clock ?? Date.now;
  const sosapi = options.sosapi ?? { modelName: 'Coffre' };
  const verifier = new SigV4Verifier({
    regions: [options.region, 'us-east-1'],
    lookupSecret: async (accessKeyId) => options.identities.lookupSecret(accessKeyId),
    nowMs: clock,
  });
  const baseDomains = options.baseDomain ? [options.baseDomain] : [];
  const observer = new RequestObserver({
    audit: options.audit,
    metrics: options.metrics,
    identities: options.identities,
    clock,
    onAuditFailure: options.onAuditFailure,
  });

  async function authenticate(
    request: IncomingMessage,
  ): Promise<{ identity: VerifiedIdentity; caller: Caller }> {
    const { rawPath, rawQuery } = splitUrl(request.url ?? '/');
    // Coffre issues no temporary credentials: any session token is one S3 would not know either,
    // refused rather than ignored (a client sending one believes it is using other credentials).
    if (
      request.headers['x-amz-security-token'] !== undefined ||
      /(^|&)X-Amz-Security-Token=/i.test(rawQuery)
    ) {
      throw new S3Error('InvalidToken');
    }
    const identity = await verifier.verify({
      method: request.method ?? 'GET',
      rawPath,
      rawQuery,
      headers: request.headers,
    });
    const resolved = options.identities.resolve(identity.accessKeyId);
    if (!resolved)
      throw new S3Error('InvalidAccessKeyId', { elements: { AWSAccessKeyId: identity.accessKeyId } });
    const caller: Caller = {
      tenantId: resolved.tenant.id,
      accessKeyId: resolved.key.accessKeyId,
      role: resolved.key.role,
    };
    return { identity, caller };
  }

  /**
   * The bucket the request names, in the namespace of the tenant whose key signed it: another
   * tenant's bucket of the same name is not addressable at all, so the answer is the one for a name
   * the caller has no bucket under (NoSuchBucket), and nothing tells the two apart.
   */
  function authoriseBucket(endpoint: Endpoint, caller: Caller): BucketRecord | undefined {
    const bucket = bucketOf(endpoint);
    if (bucket === undefined) return undefined;
    const record = options.layer.buckets.find(caller.tenantId, bucket);
    if (record === undefined) throw new S3Error('NoSuchBucket', { elements: { BucketName: bucket } });
    return record;
  }

  /**
   * A preflight carries no credentials and so names no namespace: it is answered from a bucket of
   * that name, in any namespace, whose CORS rules allow it. Without such a rule, or without any
   * bucket of that name, the refusal is the same, so a preflight tells no more than what an owner
   * chose to publish to browsers (that a bucket of this name accepts this origin and method).
   */
  function preflightBucket(endpoint: Endpoint, request: IncomingMessage): BucketRecord | undefined {
    const bucket = bucketOf(endpoint);
    const origin = firstHeader(request, 'origin');
    const method = firstHeader(request, 'access-control-request-method');
    if (bucket === undefined || origin === undefined || method === undefined) return undefined;
    const preflight = {
      origin,
      method,
      requestedHeaders: parseRequestedHeaders(firstHeader(request, 'access-control-request-headers')),
    };
    return options.layer.buckets
      .named(bucket)
      .find((record) => record.cors !== null && matchCorsRule(record.cors, preflight) !== undefined);
  }

  return async (request: IncomingMessage, response: ServerResponse, requestContext: RequestContext) => {
    const { rawPath, rawQuery } = splitUrl(request.url ?? '/');
    let operationName = 'unknown';
    const facts: RequestFacts = { operation: 'unknown' };
    observer.watch(request, response, requestContext, facts);
    try {
      const method = request.method ?? 'GET';
      // A CORS preflight carries no credentials by design (Fetch standard): it is answered from the
      // bucket's CORS rules alone and can neither read nor change anything.
      const preflight = method === 'OPTIONS';
      const { identity, caller } = preflight ? anonymousPreflight(clock) : await authenticate(request);
      if (!preflight) facts.caller = caller;
      const endpoint = parseEndpoint(
        { method, rawPath, rawQuery, headers: request.headers },
        { baseDomains },
      );
      operationName = endpoint.operation;
      facts.operation = endpoint.operation;
      if ('bucket' in endpoint) facts.bucket = endpoint.bucket;
      if ('key' in endpoint) facts.key = endpoint.key;
      if (!roleAllows(caller.role, endpoint.operation)) throw new S3Error('AccessDenied');
      const bucketRecord = preflight ? preflightBucket(endpoint, request) : authoriseBucket(endpoint, caller);
      if (!preflight) checkExpectedOwners(request, endpoint, caller);
      if (!preflight && bucketRecord) {
        setActualRequestCorsHeaders(response, bucketRecord.cors, firstHeader(request, 'origin'), method);
      }
      // From here on, the handlers and the object layer know the bucket by its id; answers show
      // bucketRecord.name.
      const resolved = bucketRecord === undefined ? endpoint : { ...endpoint, bucket: bucketRecord.id };
      const handler = operations[endpoint.operation] as
        | OperationHandler<typeof endpoint.operation>
        | undefined;
      if (!handler) throw new S3Error('NotImplemented');
      if (!preflight)
        precheckWrite(options.layer, resolved, caller, bucketRecord, (name) => firstHeader(request, name));
      const context: OperationContext = {
        request,
        response,
        requestId: requestContext.requestId,
        identity,
        caller,
        layer: await withSosapiListing(options.layer, resolved, bucketRecord, sosapi, clock()),
        region: options.region,
        clock,
        commonHeaders: commonHeaders(requestContext.requestId),
        bucketRecord,
        header: (name) => firstHeader(request, name),
      };
      // Veeam's SOSAPI documents are virtual objects in every bucket, answered here.
      if (await serveSosapiObject(context, resolved, sosapi)) return;
      // The caller rides along into the object layer, whose commit checks the key's role.
      await callerScope.run(caller, () => handler(context, resolved as never));
    } catch (thrown) {
      const error = toS3Error(thrown);
      facts.errorCode = error.code;
      options.onError?.(error, operationName);
      // The body was not (all) read: a small rest is read first so the client gets this answer,
      // otherwise the connection closes after it, as S3 does (see settleUnreadBody).
      await settleUnreadBody(request, response);
      sendError(response, error, {
        requestId: requestContext.requestId,
        resource: rawPath,
        method: request.method ?? 'GET',
      });
    }
  };
}
