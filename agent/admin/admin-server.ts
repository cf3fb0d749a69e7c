// The admin listener: a separate port (--admin-port, loopback by default) for the operator only.
// Every request is authenticated by its HMAC signature (admin-signature.ts) before any route runs,
// except that Prometheus may scrape /metrics with a bearer token when one is configured. Bodies are
// small JSON documents, bounded; answers are JSON (or JSON lines for the audit export).

import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  listen,
  type RequestContext,
  type RunningServer,
  readBodyPieces,
  settleUnreadBody,
} from '../http/server.ts';
import {
  type AdminAnswer,
  type AdminDependencies,
  AdminRequestError,
  type AdminRoute,
  adminRoutes,
} from './admin-routes.ts';
import { AdminAuthError, type AdminAuthenticator } from './admin-signature.ts';

/** The audit log of refused admin calls (no tenant id can take it: ids start with a letter or digit). */
export const operatorAuditTenant = '-operator';

/** A desired-state document is a few hundred bytes; 1 MiB is far beyond any of them. */
export const maximumAdminBodyBytes = 1024 * 1024;

export interface AdminServerOptions extends AdminDependencies {
  host: string;
  port: number;
  authenticator: AdminAuthenticator;
  /** When set, GET /metrics also accepts `Authorization: Bearer <token>` (Prometheus). */
  metricsBearerToken?: string | null;
  tls?: { certificateFile: string; privateKeyFile: string };
}

interface CompiledRoute {
  route: AdminRoute;
  pattern: RegExp;
  names: string[];
}

function compile(route: AdminRoute): CompiledRoute {
  const names: string[] = [];
  const source = route.path
    .replace(/[.*+?^$()|[\]\\]/g, '\\$&')
    .replace(/\{(\w+)\}/g, (_match, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
  return { route, pattern: new RegExp(`^${source}$`), names };
}

const compiledRoutes = adminRoutes.map(compile);

function findRoute(
  method: string,
  path: string,
): { route: AdminRoute; params: Record<string, string> } | 'method' | null {
  let pathMatched = false;
  for (const compiled of compiledRoutes) {
    const match = compiled.pattern.exec(path);
    if (!match) continue;
    pathMatched = true;
    if (compiled.route.method !== method) continue;
    const params: Record<string, string> = {};
    compiled.names.forEach((name, index) => {
      params[name] = decodeURIComponent(match[index + 1]);
    });
    return { route: compiled.route, params };
  }
  return pathMatched ? 'method' : null;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > maximumAdminBodyBytes)
    throw new AdminRequestError(413, 'BodyTooLarge', 'the body is too large');
  const chunks: Buffer[] = [];
  let total = 0;
  // The S3 bodies' reader: the request stays open when this stops early (too large), and the
  // refusal is answered (settleUnreadBody).
  for await (const chunk of readBodyPieces(request)) {
    total += chunk.length;
    if (total > maximumAdminBodyBytes)
      throw new AdminRequestError(413, 'BodyTooLarge', 'the body is too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  const body = Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length });
  response.end(body);
}

async function send(response: ServerResponse, answer: AdminAnswer): Promise<void> {
  if ('json' in answer) return sendJson(response, answer.status, answer.json);
  if ('text' in answer) {
    const body = Buffer.from(answer.text);
    response.writeHead(answer.status, { 'content-type': answer.contentType, 'content-length': body.length });
    response.end(body);
    return;
  }
  response.writeHead(answer.status, { 'content-type': 'application/x-ndjson' });
  for await (const line of answer.lines) {
    if (!response.write(`${line}\n`)) await new Promise((resolve) => response.once('drain', resolve));
  }
  response.end();
}

function bearerAllowed(request: IncomingMessage, token: string | null | undefined): boolean {
  if (!token) return false;
  const given = Buffer.from(request.headers.authorization ?? '');
  const expected = Buffer.from(`Bearer ${token}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function createAdminHandler(options: AdminServerOptions) {
  return async (
    request: IncomingMessage,
    response: ServerResponse,
    context: RequestContext,
  ): Promise<void> => {
    const method = request.method ?? 'GET';
    const target = request.url ?? '/';
    const url = new URL(target, 'http://admin.invalid');
    try {
      const found = findRoute(method, url.pathname);
      const metricsScrape = found !== null && found !== 'method' && found.route.path === '/metrics';
      let bodySha256Hex: string | null = null;
      if (!(metricsScrape && bearerAllowed(request, options.metricsBearerToken))) {
        bodySha256Hex = options.authenticator.authenticate({
          method,
          target,
          headers: request.headers,
        }).bodySha256Hex;
      }
      if (found === null) throw new AdminRequestError(404, 'NoSuchRoute', `no route ${url.pathname}`);
      if (found === 'method')
        throw new AdminRequestError(405, 'MethodNotAllowed', `${method} is not allowed here`);
      const body = await readBody(request);
      if (bodySha256Hex !== null) options.authenticator.checkBody(body, bodySha256Hex);
      let parsed: unknown;
      if (body.length > 0) {
        try {
          parsed = JSON.parse(body.toString('utf8'));
        } catch {
          throw new AdminRequestError(400, 'InvalidJson', 'the body is not JSON');
        }
      }
      const call = {
        params: found.params,
        query: url.searchParams,
        body: parsed,
        remoteAddress: context.remoteAddress,
        requestId: context.requestId,
      };
      const answer = await found.route.handle(call, options);
      if (found.route.mutates) await auditAdminCall(options, found.route, call, answer.status);
      await send(response, answer);
    } catch (error) {
      // A body left unread (refused from the headers, or too large): read a small rest, or close
      // the connection after the answer without resetting it.
      await settleUnreadBody(request, response);
      if (error instanceof AdminAuthError) {
        // A refused call to the operator's own API is a security event: kept like the tenants' ones.
        await options.audit
          ?.append({
            atMs: options.clock(),
            tenantId: operatorAuditTenant,
            accessKeyId: '',
            role: '',
            remoteAddress: context.remoteAddress,
            requestId: context.requestId,
            operation: `admin ${method} ${target}`.slice(0, 512),
            status: 401,
            errorCode: error.code,
          })
          .catch((auditError: unknown) => console.error('audit record not written:', auditError));
        return sendJson(response, 401, {
          error: error.code,
          message: error.message,
          requestId: context.requestId,
        });
      }
      if (error instanceof AdminRequestError) {
        return sendJson(response, error.status, {
          error: error.code,
          message: error.message,
          requestId: context.requestId,
        });
      }
      console.error('admin request failed:', error);
      sendJson(response, 500, {
        error: 'InternalError',
        message: 'the request failed',
        requestId: context.requestId,
      });
    }
  };
}

/** The operator's changes go to the audit log of the tenant they concern, like the tenant's own. */
async function auditAdminCall(
  options: AdminServerOptions,
  route: AdminRoute,
  call: { params: Record<string, string>; body: unknown; remoteAddress: string; requestId: string },
  status: number,
): Promise<void> {
  if (!options.audit) return;
  // Every route that changes something names its tenant in its path (buckets are per tenant).
  const tenantId = call.params.tenantId;
  if (tenantId === undefined) return;
  await options.audit.append({
    atMs: options.clock(),
    tenantId,
    accessKeyId: 'operator',
    role: 'admin',
    remoteAddress: call.remoteAddress,
    requestId: call.requestId,
    operation: `admin ${route.method} ${route.path}`,
    bucket: call.params.bucket,
    key: call.params.accessKeyId,
    status,
  });
}

export function listenAdmin(options: AdminServerOptions): Promise<RunningServer> {
  return listen(createAdminHandler(options), {
    host: options.host,
    port: options.port,
    tls: options.tls,
    onHandlerCrash: (error) => console.error('admin request failed after its response started:', error),
  });
}
