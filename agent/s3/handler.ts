// The S3 request pipeline: authenticate (SigV4), parse the one Endpoint the request asks for,
// authorise the caller for it (role, tenant owning the bucket), dispatch to its handler, and turn
// anything thrown into the S3 error AWS would send.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestContext, RequestHandler } from '../http/server.ts';
import type { Identities } from '../objects/identities.ts';
import type { ObjectLayer } from '../objects/object-layer.ts';
import type { BucketRecord } from '../objects/records.ts';
import { type Endpoint, type Operation, parseEndpoint } from './endpoint.ts';
import { S3Error, toS3Error } from './errors.ts';
import type { Caller, OperationContext, OperationHandler } from './operation-context.ts';
import { bucketOperations } from './operations/bucket-operations.ts';
import { setActualRequestCorsHeaders } from './operations/cors-rules.ts';
import { objectOperations } from './operations/object-operations.ts';
import { roleAllows } from './permissions.ts';
import { commonHeaders, sendError } from './responses.ts';
import { SigV4Verifier, type VerifiedIdentity } from './sigv4.ts';

export interface S3HandlerOptions {
  layer: ObjectLayer;
  identities: Identities;
  region: string;
  /** Virtual-hosted-style requests are recognised under this domain. */
  baseDomain: string | null;
  clock?: () => number;
  /** Called with every failed request's error (5xx ones carry a cause worth logging). */
  onError?: (error: S3Error, endpoint: string) => void;
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
    caller: { tenantId: '', accessKeyId: '', role: 'read-only', displayName: 'anonymous' },
  };
}

export function createS3Handler(options: S3HandlerOptions): RequestHandler {
  const clock = options.clock ?? Date.now;
  const verifier = new SigV4Verifier({
    regions: [options.region, 'us-east-1'],
    lookupSecret: async (accessKeyId) => options.identities.lookupSecret(accessKeyId),
    nowMs: clock,
  });
  const baseDomains = options.baseDomain ? [options.baseDomain] : [];

  async function authenticate(
    request: IncomingMessage,
  ): Promise<{ identity: VerifiedIdentity; caller: Caller }> {
    const { rawPath, rawQuery } = splitUrl(request.url ?? '/');
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
      displayName: resolved.tenant.displayName,
    };
    return { identity, caller };
  }

  /** A bucket of another tenant is AccessDenied: a tenant cannot learn that it exists. */
  function authoriseBucket(endpoint: Endpoint, caller: Caller): BucketRecord | undefined {
    const bucket = bucketOf(endpoint);
    if (bucket === undefined) return undefined;
    let record: BucketRecord;
    try {
      record = options.layer.buckets.head(bucket);
    } catch (error) {
      throw toS3Error(error);
    }
    if (record.ownerTenantId !== caller.tenantId) throw new S3Error('AccessDenied');
    return record;
  }

  function preflightBucket(endpoint: Endpoint): BucketRecord | undefined {
    const bucket = bucketOf(endpoint);
    if (bucket === undefined) return undefined;
    try {
      return options.layer.buckets.head(bucket);
    } catch {
      // No such bucket: the preflight is refused by the Options handler, without saying why.
      return undefined;
    }
  }

  return async (request: IncomingMessage, response: ServerResponse, requestContext: RequestContext) => {
    const { rawPath, rawQuery } = splitUrl(request.url ?? '/');
    let operationName = 'unknown';
    try {
      const method = request.method ?? 'GET';
      // A CORS preflight carries no credentials by design (Fetch standard): it is answered from the
      // bucket's CORS rules alone and can neither read nor change anything.
      const preflight = method === 'OPTIONS';
      const { identity, caller } = preflight ? anonymousPreflight(clock) : await authenticate(request);
      const endpoint = parseEndpoint(
        { method, rawPath, rawQuery, headers: request.headers },
        { baseDomains },
      );
      operationName = endpoint.operation;
      if (!roleAllows(caller.role, endpoint.operation)) throw new S3Error('AccessDenied');
      const bucketRecord = preflight ? preflightBucket(endpoint) : authoriseBucket(endpoint, caller);
      if (!preflight && bucketRecord) {
        setActualRequestCorsHeaders(response, bucketRecord.cors, firstHeader(request, 'origin'), method);
      }
      const handler = operations[endpoint.operation] as
        | OperationHandler<typeof endpoint.operation>
        | undefined;
      if (!handler) throw new S3Error('NotImplemented');
      const context: OperationContext = {
        request,
        response,
        requestId: requestContext.requestId,
        identity,
        caller,
        layer: options.layer,
        region: options.region,
        clock,
        commonHeaders: commonHeaders(requestContext.requestId),
        bucketRecord,
        header: (name) => firstHeader(request, name),
      };
      await handler(context, endpoint as never);
    } catch (thrown) {
      const error = toS3Error(thrown);
      options.onError?.(error, operationName);
      if (!request.complete) {
        // The body was not read: the connection cannot carry another request, so it closes after
        // the error, as S3 does, instead of parsing the rest of the body as a new request.
        response.setHeader('Connection', 'close');
        response.once('finish', () => request.destroy());
      }
      sendError(response, error, {
        requestId: requestContext.requestId,
        resource: rawPath,
        method: request.method ?? 'GET',
      });
    }
  };
}
