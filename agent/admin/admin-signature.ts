// How the operator authenticates to the admin API: every request is signed with HMAC-SHA256
// under a secret only the operator holds (COFFRE_ADMIN_KEY or --admin-key-file). The signature
// covers the method, the path and query, a timestamp, a single-use nonce and the SHA-256 of the
// body, so a request cannot be altered, replayed, or kept and sent later: the agent refuses a
// timestamp more than `maximumClockSkewMs` away and any nonce it has already seen in that window.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const adminSignatureScheme = 'COFFRE-HMAC-SHA256';
export const adminDateHeader = 'x-coffre-date';
export const adminNonceHeader = 'x-coffre-nonce';
export const adminContentHashHeader = 'x-coffre-content-sha256';
/** Five minutes, as SigV4's own window. */
export const maximumClockSkewMs = 5 * 60 * 1000;
/** A secret of 32 bytes or more (256 bits), given as text. */
export const minimumAdminKeyLength = 32;

export interface SignedRequestParts {
  method: string;
  /** The path and query exactly as sent (request.url). */
  target: string;
  timestampMs: number;
  nonce: string;
  bodySha256Hex: string;
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function stringToSign(parts: SignedRequestParts): string {
  return [
    adminSignatureScheme,
    parts.method.toUpperCase(),
    parts.target,
    String(parts.timestampMs),
    parts.nonce,
    parts.bodySha256Hex,
  ].join('\n');
}

export function adminSignature(key: string, parts: SignedRequestParts): string {
  return createHmac('sha256', key).update(stringToSign(parts)).digest('hex');
}

/** The headers of a signed admin request (the client side: the operator, the tests). */
export function signAdminRequest(
  key: string,
  request: { method: string; target: string; body?: Uint8Array | string; nowMs?: number },
): Record<string, string> {
  const parts: SignedRequestParts = {
    method: request.method,
    target: request.target,
    timestampMs: request.nowMs ?? Date.now(),
    nonce: randomBytes(16).toString('hex'),
    bodySha256Hex: sha256Hex(request.body ?? ''),
  };
  return {
    authorization: `${adminSignatureScheme} Signature=${adminSignature(key, parts)}`,
    [adminDateHeader]: String(parts.timestampMs),
    [adminNonceHeader]: parts.nonce,
    [adminContentHashHeader]: parts.bodySha256Hex,
  };
}

export class AdminAuthError extends Error {
  override name = 'AdminAuthError';
  readonly code: 'Unsigned' | 'BadSignature' | 'Stale' | 'Replayed' | 'BodyMismatch';

  constructor(code: AdminAuthError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

/** The most nonces remembered; beyond it the oldest go first (they are also out of the window by then). */
const maximumRememberedNonces = 100_000;

/** The agent side: checks signatures and remembers the nonces of the clock-skew window. */
export class AdminAuthenticator {
  readonly #key: string;
  readonly #clock: () => number;
  readonly #seenNonces = new Map<string, number>();

  constructor(key: string, clock: () => number = Date.now) {
    if (key.length < minimumAdminKeyLength) {
      throw new Error(`the admin key must have at least ${minimumAdminKeyLength} characters`);
    }
    this.#key = key;
    this.#clock = clock;
  }

  /** Checks the headers; the body hash is checked by `checkBody` once the body is read. */
  authenticate(request: {
    method: string;
    target: string;
    headers: Record<string, string | string[] | undefined>;
  }): { bodySha256Hex: string } {
    const header = (name: string) => {
      const value = request.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const authorization = header('authorization') ?? '';
    const match = new RegExp(`^${adminSignatureScheme} Signature=([0-9a-f]{64})$`).exec(authorization);
    const timestamp = header(adminDateHeader);
    const nonce = header(adminNonceHeader);
    const bodySha256Hex = header(adminContentHashHeader);
    if (!match || !timestamp || !nonce || !bodySha256Hex || !/^[0-9a-f]{64}$/.test(bodySha256Hex)) {
      throw new AdminAuthError('Unsigned', 'the request is not signed with the admin key');
    }
    if (!/^[0-9a-zA-Z_-]{16,128}$/.test(nonce))
      throw new AdminAuthError('Unsigned', 'the nonce is malformed');
    const timestampMs = Number(timestamp);
    const nowMs = this.#clock();
    if (!Number.isSafeInteger(timestampMs) || Math.abs(nowMs - timestampMs) > maximumClockSkewMs) {
      throw new AdminAuthError('Stale', 'the request time is too far from the agent clock');
    }
    const expected = Buffer.from(
      adminSignature(this.#key, {
        method: request.method,
        target: request.target,
        timestampMs,
        nonce,
        bodySha256Hex,
      }),
      'hex',
    );
    if (!timingSafeEqual(expected, Buffer.from(match[1], 'hex'))) {
      throw new AdminAuthError('BadSignature', 'the signature does not match');
    }
    this.#forgetExpiredNonces(nowMs);
    if (this.#seenNonces.has(nonce))
      throw new AdminAuthError('Replayed', 'this request was already received');
    this.#seenNonces.set(nonce, timestampMs);
    return { bodySha256Hex };
  }

  checkBody(body: Uint8Array, bodySha256Hex: string): void {
    if (sha256Hex(body) !== bodySha256Hex)
      throw new AdminAuthError('BodyMismatch', 'the body is not the one signed');
  }

  #forgetExpiredNonces(nowMs: number): void {
    for (const [nonce, timestampMs] of this.#seenNonces) {
      const expired = nowMs - timestampMs > maximumClockSkewMs;
      if (!expired && this.#seenNonces.size < maximumRememberedNonces) break;
      this.#seenNonces.delete(nonce);
    }
  }
}
