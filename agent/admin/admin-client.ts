// A client of the admin API for the operator (and the tests): signs each request with the operator
// key and returns the status and the parsed JSON (or the text of a non-JSON answer).
import { signAdminRequest } from './admin-signature.ts';

export interface AdminResponse<Body = unknown> {
  status: number;
  body: Body;
  text: string;
}

export async function adminRequest<Body = unknown>(
  endpoint: string,
  key: string,
  method: 'GET' | 'PUT',
  target: string,
  document?: unknown,
  options: { timeoutMs?: number } = {},
): Promise<AdminResponse<Body>> {
  const body = document === undefined ? '' : JSON.stringify(document);
  const headers = signAdminRequest(key, { method, target, body });
  const response = await fetch(`${endpoint}${target}`, {
    method,
    headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body || undefined,
    signal: options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs),
  });
  const text = await response.text();
  let parsed: unknown = text;
  if ((response.headers.get('content-type') ?? '').startsWith('application/json')) parsed = JSON.parse(text);
  return { status: response.status, body: parsed as Body, text };
}
