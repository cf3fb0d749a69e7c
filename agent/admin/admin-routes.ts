// The admin API's routes: desired-state PUTs (idempotent: sending the same document twice changes
// nothing the second time) for tenants, keys, quotas and bucket settings, and reads of usage, peaks,
// health, drives and the audit log. There is deliberately no route that deletes or rewrites an
// object version: a locked version cannot be reached from here at all, and bucket settings go
// through the same object-layer rules as S3 (versioning cannot be suspended under Object Lock).
// Every route is listed in openapi.yaml beside this file; a test keeps the two equal.
import type { AgentMetrics } from '../metrics/agent-metrics.ts';
import type { AuditLog } from '../objects/audit/audit-log.ts';
import { isObjectError } from '../objects/errors.ts';
import type { Identities, KeyRole } from '../objects/identities.ts';
import type { ObjectLayer } from '../objects/object-layer.ts';
import type { Quotas } from '../objects/quotas.ts';
import type { BucketRecord, DefaultRetention } from '../objects/records.ts';
import { parisDay } from '../objects/usage-ledger.ts';

export interface AdminDependencies {
  layer: ObjectLayer;
  identities: Identities;
  quotas: Quotas;
  audit?: AuditLog;
  metrics?: AgentMetrics;
  driveStates?: () => Promise<{ driveIndex: number; description: string; state: string }[]>;
  storeCounters?: () => Readonly<Record<string, number>>;
  clock: () => number;
}

export interface AdminCall {
  params: Record<string, string>;
  query: URLSearchParams;
  /** The parsed JSON body (PUT), else undefined. */
  body: unknown;
  remoteAddress: string;
  requestId: string;
}

/** A JSON answer, or a stream of JSON lines (the audit export). */
export type AdminAnswer =
  | { status: number; json: unknown }
  | { status: number; lines: AsyncIterable<string> }
  | { status: number; text: string; contentType: string };

export class AdminRequestError extends Error {
  override name = 'AdminRequestError';
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export interface AdminRoute {
  method: 'GET' | 'PUT';
  /** OpenAPI path template, e.g. /v1/tenants/{tenantId}. */
  path: string;
  /** Changes state: recorded in the audit log of the tenant it concerns. */
  mutates: boolean;
  handle: (call: AdminCall, dependencies: AdminDependencies) => Promise<AdminAnswer>;
}

const roles: KeyRole[] = ['full', 'read-only', 'write-only'];

function invalid(message: string): AdminRequestError {
  return new AdminRequestError(400, 'InvalidRequest', message);
}

function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalid('the body must be a JSON object');
  return body as Record<string, unknown>;
}

function quotaField(body: Record<string, unknown>, name: string): number | null | undefined {
  const value = body[name];
  if (value === undefined || value === null) return value as undefined | null;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalid(`${name} must be a whole number of bytes, or null for none`);
  }
  return value;
}

function requireTenant(dependencies: AdminDependencies, tenantId: string) {
  const tenant = dependencies.identities.tenants().find((candidate) => candidate.id === tenantId);
  if (!tenant) throw new AdminRequestError(404, 'NoSuchTenant', `no tenant ${tenantId}`);
  return tenant;
}

function tenantView(dependencies: AdminDependencies, tenantId: string) {
  const tenant = requireTenant(dependencies, tenantId);
  return {
    ...tenant,
    quotaBytes: dependencies.quotas.quotaOfTenant(tenantId),
    buckets: dependencies.layer.buckets.list(tenantId).map((bucket) => bucket.name),
  };
}

/** The tenant's bucket of that name (buckets are per tenant: another tenant's is not found). */
function requireBucket(dependencies: AdminDependencies, tenantId: string, name: string) {
  requireTenant(dependencies, tenantId);
  const record = dependencies.layer.buckets.find(tenantId, name);
  if (record === undefined)
    throw new AdminRequestError(404, 'NoSuchBucket', `tenant ${tenantId} has no bucket ${name}`);
  return record;
}

/** A bucket as the admin API shows it, by bucket id (see requireBucket). */
function bucketView(dependencies: AdminDependencies, bucketId: string) {
  const current = dependencies.layer.buckets.head(bucketId);
  return {
    name: current.name,
    tenantId: current.ownerTenantId,
    versioning: current.versioning,
    objectLockEnabled: current.objectLock.enabled,
    defaultRetention: current.objectLock.defaultRetention,
    quotaBytes: dependencies.quotas.quotaOfBucket(current.id),
    usage: dependencies.layer.usage.bucketUsage(current.id),
  };
}

const dayPattern = /^\d{4}-\d{2}-\d{2}$/;

/** The first day of the Paris month of `nowMs` and of the next month. */
function currentMonth(nowMs: number): { fromDay: string; toDay: string } {
  const [year, month] = parisDay(nowMs).split('-').map(Number);
  const next = month === 12 ? `${year + 1}-01-01` : `${year}-${String(month + 1).padStart(2, '0')}-01`;
  return { fromDay: `${year}-${String(month).padStart(2, '0')}-01`, toDay: next };
}

async function putTenant(call: AdminCall, dependencies: AdminDependencies): Promise<AdminAnswer> {
  const body = objectBody(call.body);
  const displayName = body.displayName;
  if (typeof displayName !== 'string' || displayName.length === 0 || displayName.length > 256) {
    throw invalid('displayName must be a non-empty string of at most 256 characters');
  }
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(call.params.tenantId)) {
    throw invalid('a tenant id is 1 to 63 lower-case letters, digits and hyphens');
  }
  const quotaBytes = quotaField(body, 'quotaBytes');
  await dependencies.identities.putTenant({ id: call.params.tenantId, displayName });
  if (quotaBytes !== undefined) await dependencies.quotas.setTenantQuota(call.params.tenantId, quotaBytes);
  return { status: 200, json: tenantView(dependencies, call.params.tenantId) };
}

async function putKey(call: AdminCall, dependencies: AdminDependencies): Promise<AdminAnswer> {
  requireTenant(dependencies, call.params.tenantId);
  const body = objectBody(call.body);
  const { secretAccessKey, role, enabled } = body;
  if (typeof secretAccessKey !== 'string') throw invalid('secretAccessKey is required');
  if (typeof role !== 'string' || !roles.includes(role as KeyRole))
    throw invalid(`role is one of ${roles.join(', ')}`);
  if (enabled !== undefined && typeof enabled !== 'boolean') throw invalid('enabled is true or false');
  try {
    const key = await dependencies.identities.putKey({
      accessKeyId: call.params.accessKeyId,
      secretAccessKey,
      tenantId: call.params.tenantId,
      role: role as KeyRole,
      enabled,
    });
    return { status: 200, json: withoutSecret(key) };
  } catch (error) {
    if ((error as Error).name === 'IdentityError')
      throw new AdminRequestError(409, 'KeyRefused', (error as Error).message);
    throw error;
  }
}

function withoutSecret<Key extends { secretAccessKey: string }>(key: Key): Omit<Key, 'secretAccessKey'> {
  const { secretAccessKey: _secret, ...rest } = key;
  return rest;
}

async function putBucket(call: AdminCall, dependencies: AdminDependencies): Promise<AdminAnswer> {
  const body = objectBody(call.body);
  const { tenantId, bucket: name } = call.params;
  requireTenant(dependencies, tenantId);
  const { versioning, objectLockEnabled } = body;
  if (body.tenantId !== undefined && body.tenantId !== tenantId) {
    throw invalid('the bucket belongs to the tenant of the path; tenantId, if given, must be the same');
  }
  if (versioning !== undefined && versioning !== 'Enabled' && versioning !== 'Suspended') {
    throw invalid('versioning is Enabled or Suspended');
  }
  if (objectLockEnabled !== undefined && typeof objectLockEnabled !== 'boolean') {
    throw invalid('objectLockEnabled is true or false');
  }
  const quotaBytes = quotaField(body, 'quotaBytes');
  const defaultRetention = defaultRetentionField(body);
  const { buckets } = dependencies.layer;
  // Names are per tenant: only this tenant's namespace is looked at.
  let existing = buckets.find(tenantId, name);
  try {
    if (existing === undefined) {
      existing = await buckets.create({
        name,
        ownerTenantId: tenantId,
        objectLockEnabled: objectLockEnabled === true,
      });
    } else if (objectLockEnabled === true && !existing.objectLock.enabled) {
      throw new AdminRequestError(
        409,
        'InvalidBucketState',
        'Object Lock can only be enabled when the bucket is created',
      );
    }
    if (versioning !== undefined && existing.versioning !== versioning)
      await buckets.setVersioning(existing.id, versioning);
    if (defaultRetention !== undefined) await putDefaultRetention(dependencies, existing, defaultRetention);
  } catch (error) {
    if (isObjectError(error)) {
      const status = error.code === 'InvalidBucketName' ? 400 : 409;
      throw new AdminRequestError(status, error.code, error.message);
    }
    throw error;
  }
  if (quotaBytes !== undefined) await dependencies.quotas.setBucketQuota(existing.id, quotaBytes);
  return { status: 200, json: bucketView(dependencies, existing.id) };
}

/** `defaultRetention`: S3's ObjectLockConfiguration Rule.DefaultRetention, or null for none. */
function defaultRetentionField(body: Record<string, unknown>): DefaultRetention | null | undefined {
  const value = body.defaultRetention;
  if (value === undefined || value === null) return value as undefined | null;
  const { mode, days, years } = objectBody(value);
  const period = (number: unknown) =>
    number === undefined || (Number.isSafeInteger(number) && (number as number) > 0);
  if (
    (mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE') ||
    (days === undefined) === (years === undefined) ||
    !period(days) ||
    !period(years)
  ) {
    throw invalid(
      'defaultRetention is { mode: GOVERNANCE | COMPLIANCE, days or years: a positive whole number }',
    );
  }
  return {
    mode,
    ...(days === undefined ? {} : { days: days as number }),
    ...(years === undefined ? {} : { years: years as number }),
  };
}

async function putDefaultRetention(
  dependencies: AdminDependencies,
  bucket: BucketRecord,
  defaultRetention: DefaultRetention | null,
): Promise<void> {
  // Setting a default retention on a bucket without Object Lock would turn Object Lock on as a
  // side effect (S3's PutObjectLockConfiguration does); this route only converges settings.
  if (!bucket.objectLock.enabled) {
    if (defaultRetention === null) return;
    throw new AdminRequestError(
      409,
      'InvalidBucketState',
      'a default retention needs a bucket created with Object Lock',
    );
  }
  if (JSON.stringify(bucket.objectLock.defaultRetention) === JSON.stringify(defaultRetention)) return;
  await dependencies.layer.buckets.setObjectLockConfiguration(bucket.id, defaultRetention);
}

export const adminRoutes: AdminRoute[] = [
  {
    method: 'GET',
    path: '/v1/health',
    mutates: false,
    handle: async (_call, dependencies) => {
      const drives = (await dependencies.driveStates?.()) ?? [];
      const offline = drives.filter((drive) => drive.state !== 'online').length;
      return {
        status: 200,
        json: { status: offline === 0 ? 'ok' : 'degraded', drivesOffline: offline, drives },
      };
    },
  },
  {
    method: 'GET',
    path: '/v1/drives',
    mutates: false,
    handle: async (_call, dependencies) => ({
      status: 200,
      json: {
        drives: (await dependencies.driveStates?.()) ?? [],
        store: dependencies.storeCounters?.() ?? {},
      },
    }),
  },
  {
    method: 'GET',
    path: '/metrics',
    mutates: false,
    handle: async (_call, dependencies) => {
      if (!dependencies.metrics) throw new AdminRequestError(404, 'NoMetrics', 'metrics are not enabled');
      const { contentType, body } = await dependencies.metrics.render();
      return { status: 200, text: body, contentType };
    },
  },
  {
    method: 'GET',
    path: '/v1/tenants',
    mutates: false,
    handle: async (_call, dependencies) => ({
      status: 200,
      json: {
        tenants: dependencies.identities.tenants().map((tenant) => tenantView(dependencies, tenant.id)),
      },
    }),
  },
  { method: 'PUT', path: '/v1/tenants/{tenantId}', mutates: true, handle: putTenant },
  {
    method: 'GET',
    path: '/v1/tenants/{tenantId}',
    mutates: false,
    handle: async (call, dependencies) => ({
      status: 200,
      json: tenantView(dependencies, call.params.tenantId),
    }),
  },
  {
    method: 'PUT',
    path: '/v1/tenants/{tenantId}/quota',
    mutates: true,
    handle: async (call, dependencies) => {
      requireTenant(dependencies, call.params.tenantId);
      const quotaBytes = quotaField(objectBody(call.body), 'quotaBytes');
      if (quotaBytes === undefined) throw invalid('quotaBytes is required (null removes the quota)');
      await dependencies.quotas.setTenantQuota(call.params.tenantId, quotaBytes);
      return { status: 200, json: { tenantId: call.params.tenantId, quotaBytes } };
    },
  },
  {
    method: 'GET',
    path: '/v1/tenants/{tenantId}/keys',
    mutates: false,
    handle: async (call, dependencies) => {
      requireTenant(dependencies, call.params.tenantId);
      return {
        status: 200,
        json: { keys: dependencies.identities.keys(call.params.tenantId).map(withoutSecret) },
      };
    },
  },
  { method: 'PUT', path: '/v1/tenants/{tenantId}/keys/{accessKeyId}', mutates: true, handle: putKey },
  {
    method: 'GET',
    path: '/v1/tenants/{tenantId}/usage',
    mutates: false,
    handle: async (call, dependencies) => {
      requireTenant(dependencies, call.params.tenantId);
      const { usage } = dependencies.layer;
      const nowMs = dependencies.clock();
      const month = currentMonth(nowMs);
      return {
        status: 200,
        json: {
          ...usage.usageOf(call.params.tenantId, nowMs),
          quotaBytes: dependencies.quotas.quotaOfTenant(call.params.tenantId),
          currentMonth: { ...month, peakBytes: usage.peakOf(call.params.tenantId, month) },
        },
      };
    },
  },
  {
    method: 'GET',
    path: '/v1/tenants/{tenantId}/peaks',
    mutates: false,
    handle: async (call, dependencies) => {
      requireTenant(dependencies, call.params.tenantId);
      const fromDay = call.query.get('from') ?? '0000-01-01';
      const toDay = call.query.get('to') ?? '9999-12-31';
      if (!dayPattern.test(fromDay) || !dayPattern.test(toDay) || fromDay > toDay) {
        throw invalid('from and to are Paris dates YYYY-MM-DD, from <= to');
      }
      const { usage } = dependencies.layer;
      return {
        status: 200,
        json: {
          tenantId: call.params.tenantId,
          fromDay,
          toDay,
          peakBytes: usage.peakOf(call.params.tenantId, { fromDay, toDay }),
          // The level carried into the period matters as much as the days inside it.
          days: usage.dailyPeaks(call.params.tenantId, { toDay }),
        },
      };
    },
  },
  {
    method: 'GET',
    path: '/v1/tenants/{tenantId}/audit',
    mutates: false,
    handle: async (call, dependencies) => {
      requireTenant(dependencies, call.params.tenantId);
      if (!dependencies.audit) throw new AdminRequestError(404, 'NoAudit', 'the audit log is not enabled');
      const bound = (name: string) => {
        const value = call.query.get(name);
        if (value === null) return undefined;
        const number = Number(value);
        if (!Number.isSafeInteger(number)) throw invalid(`${name} is a time in milliseconds since the epoch`);
        return number;
      };
      const lines = dependencies.audit.exportLines(call.params.tenantId, {
        fromMs: bound('from'),
        toMs: bound('to'),
      });
      return { status: 200, lines };
    },
  },
  {
    method: 'GET',
    path: '/v1/tenants/{tenantId}/audit/verification',
    mutates: false,
    handle: async (call, dependencies) => {
      requireTenant(dependencies, call.params.tenantId);
      if (!dependencies.audit) throw new AdminRequestError(404, 'NoAudit', 'the audit log is not enabled');
      // The operator may hold its own anchor (a sequence and hash it read earlier and kept off the
      // host): the log must still contain that record, whatever happened to the local checkpoint.
      const sequence = call.query.get('sequence');
      const hash = call.query.get('hash');
      let anchor: { sequence: number; hash: string } | undefined;
      if (sequence !== null || hash !== null) {
        if (!Number.isSafeInteger(Number(sequence)) || !/^[0-9a-f]{64}$/.test(hash ?? '')) {
          throw invalid('sequence is a record number and hash its 64 hex digits');
        }
        anchor = { sequence: Number(sequence), hash: hash as string };
      }
      return { status: 200, json: await dependencies.audit.verify(call.params.tenantId, anchor) };
    },
  },
  {
    method: 'GET',
    path: '/v1/tenants/{tenantId}/buckets',
    mutates: false,
    handle: async (call, dependencies) => {
      requireTenant(dependencies, call.params.tenantId);
      const records = dependencies.layer.buckets.list(call.params.tenantId);
      return { status: 200, json: { buckets: records.map((record) => bucketView(dependencies, record.id)) } };
    },
  },
  { method: 'PUT', path: '/v1/tenants/{tenantId}/buckets/{bucket}', mutates: true, handle: putBucket },
  {
    method: 'GET',
    path: '/v1/tenants/{tenantId}/buckets/{bucket}',
    mutates: false,
    handle: async (call, dependencies) => ({
      status: 200,
      json: bucketView(
        dependencies,
        requireBucket(dependencies, call.params.tenantId, call.params.bucket).id,
      ),
    }),
  },
];
