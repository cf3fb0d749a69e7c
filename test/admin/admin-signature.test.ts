// The admin API's request signatures, on their own: what a signed request covers and what the
// agent refuses (table of tampered requests), with an injected clock.
import test from 'ava';
import {
  AdminAuthenticator,
  adminContentHashHeader,
  adminDateHeader,
  adminNonceHeader,
  maximumClockSkewMs,
  signAdminRequest,
} from '../../agent/admin/admin-signature.ts';

const key = 'operator-key-0123456789abcdef0123456789';
const nowMs = Date.UTC(2026, 10, 29, 10, 0);
const body = JSON.stringify({ displayName: 'ACME SAS' });

function signed(overrides: { nowMs?: number; key?: string } = {}) {
  return signAdminRequest(overrides.key ?? key, {
    method: 'PUT',
    target: '/v1/tenants/acme',
    body,
    nowMs: overrides.nowMs ?? nowMs,
  });
}

test('admin signature: a signed request passes once, with the hash of its body to check', (t) => {
  const authenticator = new AdminAuthenticator(key, () => nowMs);
  const headers = signed();
  const { bodySha256Hex } = authenticator.authenticate({
    method: 'PUT',
    target: '/v1/tenants/acme',
    headers,
  });
  t.notThrows(() => authenticator.checkBody(Buffer.from(body), bodySha256Hex));
  t.throws(() => authenticator.checkBody(Buffer.from('{}'), bodySha256Hex), {
    message: /not the one signed/,
  });
  t.throws(() => authenticator.authenticate({ method: 'PUT', target: '/v1/tenants/acme', headers }), {
    message: /already received/,
  });
});

const refusals: [
  string,
  () => { method: string; target: string; headers: Record<string, string> },
  RegExp,
][] = [
  ['no signature', () => ({ method: 'PUT', target: '/v1/tenants/acme', headers: {} }), /not signed/],
  [
    'another key',
    () => ({ method: 'PUT', target: '/v1/tenants/acme', headers: signed({ key: 'x'.repeat(40) }) }),
    /does not match/,
  ],
  [
    'another method',
    () => ({ method: 'GET', target: '/v1/tenants/acme', headers: signed() }),
    /does not match/,
  ],
  [
    'another path',
    () => ({ method: 'PUT', target: '/v1/tenants/globex', headers: signed() }),
    /does not match/,
  ],
  [
    'a changed date',
    () => ({
      method: 'PUT',
      target: '/v1/tenants/acme',
      headers: { ...signed(), [adminDateHeader]: String(nowMs + 1) },
    }),
    /does not match/,
  ],
  [
    'a changed nonce',
    () => ({
      method: 'PUT',
      target: '/v1/tenants/acme',
      headers: { ...signed(), [adminNonceHeader]: 'ffffffffffffffffffffffffffffffff' },
    }),
    /does not match/,
  ],
  [
    'a changed body hash',
    () => ({
      method: 'PUT',
      target: '/v1/tenants/acme',
      headers: { ...signed(), [adminContentHashHeader]: '0'.repeat(64) },
    }),
    /does not match/,
  ],
  [
    'signed more than five minutes ago',
    () => ({
      method: 'PUT',
      target: '/v1/tenants/acme',
      headers: signed({ nowMs: nowMs - maximumClockSkewMs - 1 }),
    }),
    /too far/,
  ],
  [
    'signed more than five minutes ahead',
    () => ({
      method: 'PUT',
      target: '/v1/tenants/acme',
      headers: signed({ nowMs: nowMs + maximumClockSkewMs + 1 }),
    }),
    /too far/,
  ],
];

for (const [what, request, expected] of refusals) {
  test(`admin signature: ${what} is refused`, (t) => {
    const authenticator = new AdminAuthenticator(key, () => nowMs);
    t.throws(() => authenticator.authenticate(request()), { message: expected });
  });
}

test('admin signature: an operator key shorter than 32 characters is refused at start', (t) => {
  t.throws(() => new AdminAuthenticator('short-key'), { message: /at least 32/ });
});
