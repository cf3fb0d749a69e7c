// Matching a cross-origin request against a bucket's CORS rules, as S3 evaluates them: the first
// rule whose AllowedOrigin matches the Origin, whose AllowedMethod holds the method, and whose
// AllowedHeader patterns cover every requested header wins
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html).
import type { ServerResponse } from 'node:http';
import type { CorsRule } from '../../objects/records.ts';
import type { ResponseHeaders } from '../responses.ts';

export interface CrossOriginRequest {
  origin: string;
  method: string;
  /** Access-Control-Request-Headers of a preflight, lower-case; empty for an actual request. */
  requestedHeaders: readonly string[];
}

/** An AllowedOrigin or AllowedHeader with at most one "*", which matches any run of characters. */
function wildcardMatches(pattern: string, value: string): boolean {
  const star = pattern.indexOf('*');
  if (star === -1) return pattern === value;
  const head = pattern.slice(0, star);
  const tail = pattern.slice(star + 1);
  return value.length >= head.length + tail.length && value.startsWith(head) && value.endsWith(tail);
}

/** The header names of an Access-Control-Request-Headers value, lower-case. */
export function parseRequestedHeaders(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
}

export function matchCorsRule(rules: readonly CorsRule[], request: CrossOriginRequest): CorsRule | undefined {
  return rules.find(
    (rule) =>
      rule.allowedOrigins.some((pattern) => wildcardMatches(pattern, request.origin)) &&
      rule.allowedMethods.includes(request.method) &&
      request.requestedHeaders.every((name) =>
        (rule.allowedHeaders ?? []).some((pattern) => wildcardMatches(pattern.toLowerCase(), name)),
      ),
  );
}

/**
 * The Access-Control-* headers S3 answers for a matched rule. A rule open to every origin ("*") is
 * answered with "*" and no credentials; a rule naming origins echoes the request's Origin and allows
 * credentials, and the answer varies with the request's Origin and preflight headers.
 */
export function corsResponseHeaders(rule: CorsRule, request: CrossOriginRequest): ResponseHeaders {
  const anyOrigin = rule.allowedOrigins.includes('*');
  const exposed = rule.exposeHeaders ?? [];
  return {
    'Access-Control-Allow-Origin': anyOrigin ? '*' : request.origin,
    'Access-Control-Allow-Methods': rule.allowedMethods.join(', '),
    'Access-Control-Allow-Headers':
      request.requestedHeaders.length > 0 ? request.requestedHeaders.join(', ') : undefined,
    'Access-Control-Expose-Headers': exposed.length > 0 ? exposed.join(', ') : undefined,
    'Access-Control-Max-Age': rule.maxAgeSeconds,
    'Access-Control-Allow-Credentials': anyOrigin ? undefined : 'true',
    Vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
  };
}

/**
 * S3 also answers the actual cross-origin request (one with an Origin header, after any preflight)
 * with the Access-Control-* headers of the first rule that allows its origin and method, so the
 * browser lets the page read the answer. Set before the handler runs, they go with its answer or
 * error alike.
 */
export function setActualRequestCorsHeaders(
  response: ServerResponse,
  rules: readonly CorsRule[] | null,
  origin: string | undefined,
  method: string,
): void {
  if (rules === null || origin === undefined) return;
  const request = { origin, method, requestedHeaders: [] };
  const rule = matchCorsRule(rules, request);
  if (rule === undefined) return;
  for (const [name, value] of Object.entries(corsResponseHeaders(rule, request))) {
    if (value !== undefined) response.setHeader(name, value);
  }
}
