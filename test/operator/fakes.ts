// Fakes of the controllers' collaborators for executor unit tests (the real ones are exercised
// end to end in operator-e2e.test.ts): an agent admin API in memory with the real API's rules that
// matter here, a resource client that records its writes, an Event recorder.
import type {
  AgentAdmin,
  AgentBucket,
  AgentKey,
  AgentTenant,
  BucketSettings,
} from '../../operator/controllers/agent-admin.ts';
import { AgentAdminError } from '../../operator/controllers/agent-admin.ts';
import type { ControllerContext } from '../../operator/controllers/context.ts';
import type { KeyRole } from '../../operator/controllers/kinds.ts';
import type {
  CustomResource,
  EventInput,
  ResourceClient,
  ResourceKind,
} from '../../operator/runtime/kube.ts';
import { ManualClock } from './manual-clock.ts';

export class FakeAgent implements AgentAdmin {
  readonly tenants = new Map<string, AgentTenant>();
  readonly keys = new Map<string, AgentKey & { secretAccessKey: string }>();
  readonly buckets = new Map<string, AgentBucket>();
  readonly calls: string[] = [];
  unreachable = false;

  #check(call: string): void {
    this.calls.push(call);
    if (this.unreachable) throw new TypeError('fetch failed');
  }

  async getTenant(tenantId: string) {
    this.#check(`GET tenant ${tenantId}`);
    const tenant = this.tenants.get(tenantId);
    return tenant === undefined
      ? null
      : {
          ...tenant,
          buckets: [...this.buckets.values()].filter((b) => b.tenantId === tenantId).map((b) => b.name),
        };
  }

  async putTenant(tenantId: string, settings: { displayName: string; quotaBytes: number | null }) {
    this.#check(`PUT tenant ${tenantId}`);
    const tenant = { id: tenantId, buckets: [], ...settings };
    this.tenants.set(tenantId, tenant);
    return tenant;
  }

  async listKeys(tenantId: string) {
    this.#check(`GET keys ${tenantId}`);
    return [...this.keys.values()]
      .filter((key) => key.tenantId === tenantId)
      .map(({ secretAccessKey: _secret, ...key }) => key);
  }

  async putKey(
    tenantId: string,
    accessKeyId: string,
    key: { secretAccessKey: string; role: KeyRole; enabled: boolean },
  ) {
    this.#check(`PUT key ${accessKeyId}`);
    if (!this.tenants.has(tenantId)) throw new AgentAdminError(404, 'NoSuchTenant', `no tenant ${tenantId}`);
    this.keys.set(accessKeyId, { accessKeyId, tenantId, ...key });
  }

  async getUsage(tenantId: string) {
    this.#check(`GET usage ${tenantId}`);
    return this.tenants.has(tenantId)
      ? {
          storedBytes: 0,
          retainedBytes: 0,
          currentMonth: { fromDay: '2026-11-01', toDay: '2026-12-01', peakBytes: 0 },
        }
      : null;
  }

  async getBucket(tenantId: string, bucket: string) {
    this.#check(`GET bucket ${tenantId}/${bucket}`);
    return this.buckets.get(`${tenantId}/${bucket}`) ?? null;
  }

  async putBucket(tenantId: string, name: string, settings: BucketSettings) {
    this.#check(`PUT bucket ${tenantId}/${name}`);
    if (!this.tenants.has(tenantId)) throw new AgentAdminError(404, 'NoSuchTenant', `no tenant ${tenantId}`);
    // Bucket names are per tenant, as on the agent.
    const existing = this.buckets.get(`${tenantId}/${name}`);
    if (existing !== undefined && settings.objectLockEnabled && !existing.objectLockEnabled) {
      throw new AgentAdminError(
        409,
        'InvalidBucketState',
        'Object Lock can only be enabled when the bucket is created',
      );
    }
    const bucket: AgentBucket = existing ?? {
      name,
      tenantId,
      versioning: settings.objectLockEnabled ? 'Enabled' : 'Unversioned',
      objectLockEnabled: settings.objectLockEnabled === true,
      defaultRetention: null,
      quotaBytes: null,
      usage: { storedBytes: 0 },
    };
    if (settings.versioning !== undefined) bucket.versioning = settings.versioning;
    if (settings.quotaBytes !== undefined) bucket.quotaBytes = settings.quotaBytes;
    if (settings.defaultRetention !== undefined) {
      if (!bucket.objectLockEnabled && settings.defaultRetention !== null)
        throw new AgentAdminError(409, 'InvalidBucketState', 'no Object Lock');
      bucket.defaultRetention = settings.defaultRetention;
    }
    this.buckets.set(`${tenantId}/${name}`, bucket);
    return { ...bucket };
  }
}

/** An in-memory kind: a cache (what the informer would hold) and a client that writes into it. */
// biome-ignore lint/suspicious/noExplicitAny: any kind of custom resource.
export class FakeKind<Resource extends CustomResource<any, any>> implements ResourceClient<Resource> {
  readonly kind: ResourceKind;
  readonly objects = new Map<string, Resource>();
  readonly writes: string[] = [];
  #version = 100;

  constructor(kind: ResourceKind) {
    this.kind = kind;
  }

  put(resource: Resource): void {
    this.objects.set(resource.metadata.name, structuredClone(resource));
  }

  get cache() {
    return { get: (name: string) => this.objects.get(name), list: () => [...this.objects.values()] };
  }

  get client(): ResourceClient<Resource> {
    return this;
  }

  async list() {
    return { items: [...this.objects.values()] };
  }

  async get(name: string) {
    return this.objects.get(name) ?? null;
  }

  async patchStatus(name: string, status: object) {
    const object = this.#require(name);
    this.writes.push('status');
    object.status = structuredClone(status) as Resource['status'];
    return this.#bump(object);
  }

  async setFinalizers(name: string, finalizers: string[], resourceVersion: string) {
    const object = this.#require(name);
    if (object.metadata.resourceVersion !== resourceVersion)
      throw Object.assign(new Error('Conflict'), { code: 409 });
    this.writes.push(`finalizers=${finalizers.join(',')}`);
    object.metadata.finalizers = finalizers;
    if (finalizers.length === 0 && object.metadata.deletionTimestamp) {
      this.objects.delete(name);
      return '';
    }
    return this.#bump(object);
  }

  #require(name: string): Resource {
    const object = this.objects.get(name);
    if (object === undefined) throw Object.assign(new Error('NotFound'), { code: 404 });
    return object;
  }

  #bump(object: Resource): string {
    object.metadata.resourceVersion = String(++this.#version);
    return object.metadata.resourceVersion;
  }
}

export function fakeContext(secrets: Record<string, string> = {}) {
  const agent = new FakeAgent();
  const events: EventInput[] = [];
  const tenants = new FakeKind<
    ControllerContext['tenants']['client'] extends ResourceClient<infer R> ? R : never
  >({ group: 'coffre.infofy.fr', version: 'v1alpha1', kind: 'Tenant', plural: 'tenants' });
  const buckets = new FakeKind<
    ControllerContext['buckets']['client'] extends ResourceClient<infer R> ? R : never
  >({ group: 'coffre.infofy.fr', version: 'v1alpha1', kind: 'Bucket', plural: 'buckets' });
  const retentionPolicies = new FakeKind<
    ControllerContext['retentionPolicies']['client'] extends ResourceClient<infer R> ? R : never
  >({ group: 'coffre.infofy.fr', version: 'v1alpha1', kind: 'RetentionPolicy', plural: 'retentionpolicies' });
  let randomCount = 0;
  const context: ControllerContext = {
    tenants: { cache: tenants.cache, client: tenants },
    buckets: { cache: buckets.cache, client: buckets },
    retentionPolicies: { cache: retentionPolicies.cache, client: retentionPolicies },
    admin: agent,
    secrets: {
      read: async (namespace, name, key) => {
        const value = secrets[`${namespace}/${name}/${key}`];
        return value === undefined ? null : { value, resourceVersion: '7' };
      },
    },
    events: { record: async (event) => void events.push(event) },
    clock: new ManualClock(),
    randomSecret: () => `random-secret-${++randomCount}-0123456789`,
  };
  return { context, agent, events, tenants, buckets, retentionPolicies };
}
