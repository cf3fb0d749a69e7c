// What happens around every S3 request once it is answered: its count, latency and bytes go to the
// metrics, and, when it changed something or was refused, a record goes to the tenant's audit log
// (who, what, when, from where, result). Kept out of the pipeline (handler.ts) so the pipeline
// only fills in the facts as it learns them.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestContext } from '../http/server.ts';
import type { AgentMetrics } from '../metrics/agent-metrics.ts';
import type { AuditEvent } from '../objects/audit/audit-chain.ts';
import type { AuditLog } from '../objects/audit/audit-log.ts';
import type { Identities } from '../objects/identities.ts';
import type { Operation } from './endpoint.ts';
import type { Caller } from './operation-context.ts';
import { operationPermissions } from './permissions.ts';

/** What the pipeline learned about a request, filled in as it goes. */
export interface RequestFacts {
  operation: Operation | 'unknown';
  caller?: Caller;
  bucket?: string;
  key?: string;
  errorCode?: string;
}

export interface RequestObserverOptions {
  audit?: AuditLog;
  metrics?: AgentMetrics;
  identities: Identities;
  clock: () => number;
  /** Called when an audit record cannot be written (the agent logs it; the metric counts it). */
  onAuditFailure?: (error: unknown) => void;
}

/** The audit log of requests that reach no tenant (unknown key, no signature). */
export const unattributedAuditTenant = '-unattributed';

/** SigV4 names the access key in the Authorization header or in X-Amz-Credential (presigned). */
function claimedAccessKeyId(request: IncomingMessage): string {
  const authorization = request.headers.authorization ?? '';
  const fromHeader = /Credential=([^/,\s]+)\//.exec(authorization)?.[1];
  if (fromHeader) return fromHeader;
  const query = (request.url ?? '').split('?')[1] ?? '';
  const credential = new URLSearchParams(query).get('X-Amz-Credential') ?? '';
  return credential.split('/')[0] ?? '';
}

function mutates(operation: RequestFacts['operation']): boolean {
  return operation !== 'unknown' && operationPermissions[operation] !== 'read';
}

export class RequestObserver {
  readonly #options: RequestObserverOptions;

  constructor(options: RequestObserverOptions) {
    this.#options = options;
  }

  /**
   * Watches one request; the facts object is read when its response ends. A request that changed
   * something or was refused is written to the audit log BEFORE the end of its response is sent:
   * the client never sees the success of a change that the log could miss after a crash.
   */
  watch(
    request: IncomingMessage,
    response: ServerResponse,
    context: RequestContext,
    facts: RequestFacts,
  ): void {
    let audited = false;
    const auditNow = (): Promise<void> => {
      if (audited || !this.#options.audit) return Promise.resolve();
      audited = true;
      const refused = response.statusCode === 401 || response.statusCode === 403;
      if (!refused && !mutates(facts.operation)) return Promise.resolve();
      return this.#audit(request, response, context, facts);
    };
    if (this.#options.audit) {
      const end = response.end.bind(response) as (...parts: unknown[]) => ServerResponse;
      // Holding end() holds the last bytes (or the headers of an empty answer) until the record is
      // on stable storage; a failed append is counted and logged, and the answer still goes out.
      (response as unknown as { end: (...parts: unknown[]) => ServerResponse }).end = (...parts) => {
        auditNow().then(() => end(...parts));
        return response;
      };
    }
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      // A response cut before its end (the client went away) is still audited.
      void auditNow();
      this.#observeMetrics(request, response, context, facts);
    };
    response.once('finish', finish);
    response.once('close', finish);
  }

  #observeMetrics(
    request: IncomingMessage,
    response: ServerResponse,
    context: RequestContext,
    facts: RequestFacts,
  ): void {
    // Not counted by listening to the body (that would consume it): a body read whole is the size
    // it declared (the payload size for aws-chunked ones); one left unread counts nothing.
    const declared = Number(
      request.headers['x-amz-decoded-content-length'] ?? request.headers['content-length'] ?? 0,
    );
    const bytesIn = request.complete && Number.isSafeInteger(declared) ? declared : 0;
    const bytesOut = Number(response.getHeader('content-length') ?? 0) || 0;
    this.#options.metrics?.observeRequest({
      operation: facts.operation,
      status: response.statusCode,
      durationSeconds: Math.max(0, this.#options.clock() - context.startedAtMs) / 1000,
      bytesIn,
      bytesOut: request.method === 'HEAD' ? 0 : bytesOut,
    });
  }

  #audit(
    request: IncomingMessage,
    response: ServerResponse,
    context: RequestContext,
    facts: RequestFacts,
  ): Promise<void> {
    const accessKeyId = facts.caller?.accessKeyId ?? claimedAccessKeyId(request);
    // A refused signature still names a key: the attempt goes to that key's tenant.
    const tenantId =
      facts.caller?.tenantId ||
      this.#options.identities.resolve(accessKeyId)?.tenant.id ||
      unattributedAuditTenant;
    const versionId = response.getHeader('x-amz-version-id');
    const event: AuditEvent = {
      atMs: this.#options.clock(),
      tenantId,
      accessKeyId,
      role: facts.caller?.role ?? '',
      remoteAddress: context.remoteAddress,
      requestId: context.requestId,
      operation:
        facts.operation === 'unknown'
          ? `${request.method ?? ''} ${request.url ?? ''}`.slice(0, 512)
          : facts.operation,
      bucket: facts.bucket,
      key: facts.key,
      versionId: typeof versionId === 'string' ? versionId : undefined,
      status: response.statusCode,
      errorCode: facts.errorCode,
    };
    return (this.#options.audit as AuditLog).append(event).then(
      () => {},
      (error: unknown) => {
        this.#options.metrics?.countAuditFailure();
        this.#options.onAuditFailure?.(error);
      },
    );
  }
}
