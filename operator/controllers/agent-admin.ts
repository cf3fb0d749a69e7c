// The agent admin API as the controllers use it (agent/admin/openapi.yaml), over the signed client
// of agent/admin. The controllers' paths are written in this file only (the invoice command reads
// /peaks itself, operator/usage/invoice-command.ts).
// Bucket names are per tenant, so every bucket call names its tenant.
import { adminRequest } from '../../agent/admin/admin-client.ts';
import type { DefaultRetention, KeyRole } from './kinds.ts';

export interface AgentTenant {
  id: string;
  displayName: string;
  quotaBytes: number | null;
  buckets: string[];
}

export interface AgentKey {
  accessKeyId: string;
  tenantId: string;
  role: KeyRole;
  enabled: boolean;
}

export interface AgentTenantUsage {
  storedBytes: number;
  retainedBytes: number;
  currentMonth: { fromDay: string; toDay: string; peakBytes: number };
}

export interface AgentBucket {
  name: string;
  tenantId: string;
  versioning: 'Unversioned' | 'Enabled' | 'Suspended';
  objectLockEnabled: boolean;
  defaultRetention: DefaultRetention | null;
  quotaBytes: number | null;
  usage: { storedBytes: number };
}

export interface BucketSettings {
  versioning?: 'Enabled' | 'Suspended';
  objectLockEnabled?: boolean;
  quotaBytes?: number | null;
  defaultRetention?: DefaultRetention | null;
}

/** What the controllers need from the agents; a fake implements it in unit tests. */
export interface AgentAdmin {
  getTenant(tenantId: string): Promise<AgentTenant | null>;
  putTenant(
    tenantId: string,
    settings: { displayName: string; quotaBytes: number | null },
  ): Promise<AgentTenant>;
  /** The tenant's keys, without their secrets; none when the tenant is unknown. */
  listKeys(tenantId: string): Promise<AgentKey[]>;
  putKey(
    tenantId: string,
    accessKeyId: string,
    key: { secretAccessKey: string; role: KeyRole; enabled: boolean },
  ): Promise<void>;
  getUsage(tenantId: string): Promise<AgentTenantUsage | null>;
  /** The tenant's bucket of that name (bucket names are per tenant), or null. */
  getBucket(tenantId: string, bucket: string): Promise<AgentBucket | null>;
  putBucket(tenantId: string, bucket: string, settings: BucketSettings): Promise<AgentBucket>;
}

/** The agent answered with an error status: `code` is the admin API's error code (NoSuchTenant…). */
export class AgentAdminError extends Error {
  override name = 'AgentAdminError';
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** A slow agent must not hold a worker forever: the reconcile fails and is retried. */
export const defaultAdminRequestTimeoutMs = 15_000;

const paths = {
  tenant: (tenantId: string) => `/v1/tenants/${encodeURIComponent(tenantId)}`,
  keys: (tenantId: string) => `/v1/tenants/${encodeURIComponent(tenantId)}/keys`,
  key: (tenantId: string, accessKeyId: string) =>
    `/v1/tenants/${encodeURIComponent(tenantId)}/keys/${encodeURIComponent(accessKeyId)}`,
  usage: (tenantId: string) => `/v1/tenants/${encodeURIComponent(tenantId)}/usage`,
  bucket: (tenantId: string, bucket: string) =>
    `/v1/tenants/${encodeURIComponent(tenantId)}/buckets/${encodeURIComponent(bucket)}`,
};

export function httpAgentAdmin(
  endpoint: string,
  adminKey: string,
  options: { requestTimeoutMs?: number } = {},
): AgentAdmin {
  const timeoutMs = options.requestTimeoutMs ?? defaultAdminRequestTimeoutMs;
  const call = async <Body>(
    method: 'GET' | 'PUT',
    target: string,
    document?: unknown,
  ): Promise<Body | null> => {
    const response = await adminRequest<unknown>(endpoint, adminKey, method, target, document, { timeoutMs });
    const parsed =
      typeof response.body === 'object' ? (response.body as Record<string, unknown> | null) : null;
    const code = typeof parsed?.error === 'string' ? parsed.error : `Http${response.status}`;
    // Absent is an answer for a read; a missing route (NoSuchRoute) is not.
    if (response.status === 404 && method === 'GET' && /^NoSuch(Tenant|Bucket)$/.test(code)) return null;
    if (response.status >= 300) {
      const message = typeof parsed?.message === 'string' ? parsed.message : response.text.slice(0, 200);
      throw new AgentAdminError(
        response.status,
        code,
        `${method} ${target}: ${response.status} ${code}: ${message}`,
      );
    }
    return parsed as Body;
  };
  return {
    getTenant: (tenantId) => call<AgentTenant>('GET', paths.tenant(tenantId)),
    putTenant: async (tenantId, settings) =>
      (await call<AgentTenant>('PUT', paths.tenant(tenantId), settings))!,
    listKeys: async (tenantId) => (await call<{ keys: AgentKey[] }>('GET', paths.keys(tenantId)))?.keys ?? [],
    putKey: async (tenantId, accessKeyId, key) => {
      await call('PUT', paths.key(tenantId, accessKeyId), key);
    },
    getUsage: (tenantId) => call<AgentTenantUsage>('GET', paths.usage(tenantId)),
    getBucket: (tenantId, bucket) => call<AgentBucket>('GET', paths.bucket(tenantId, bucket)),
    putBucket: async (tenantId, bucket, settings) =>
      (await call<AgentBucket>('PUT', paths.bucket(tenantId, bucket), settings))!,
  };
}
