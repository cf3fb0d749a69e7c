// What the controllers share: the caches and clients of each kind, the agent admin API, Secrets,
// Events and the clock. Built over a real cluster by operator.ts, over fakes in unit tests.
import type { Clock } from '../runtime/clock.ts';
import type { EventRecorder, ResourceClient, SecretReader } from '../runtime/kube.ts';
import type { AgentAdmin } from './agent-admin.ts';
import type { BucketResource, RetentionPolicyResource, TenantResource } from './kinds.ts';

/** A read-only view of an informer's cache. */
export interface Cache<Resource> {
  get(name: string): Resource | undefined;
  list(): readonly Resource[];
}

export interface KindAccess<Resource extends TenantResource | BucketResource | RetentionPolicyResource> {
  cache: Cache<Resource>;
  client: ResourceClient<Resource>;
}

export interface ControllerContext {
  tenants: KindAccess<TenantResource>;
  buckets: KindAccess<BucketResource>;
  retentionPolicies: KindAccess<RetentionPolicyResource>;
  admin: AgentAdmin;
  secrets: SecretReader;
  events: EventRecorder;
  clock: Clock;
  /** A new random secret for a disabled key (randomness injectable, like time). */
  randomSecret: () => string;
  /**
   * The periodic re-reconcile of a Ready resource (default a minute), also capping every shorter
   * "requeue after" of the reconcilers.
   */
  resyncIntervalMs?: number;
}
