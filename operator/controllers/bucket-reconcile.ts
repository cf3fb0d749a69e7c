// The Bucket reconciler, pure: the bucket exists on the agent for its tenant with the declared
// versioning, Object Lock and quota. Bucket names are per tenant on the agents; two Bucket
// resources naming the same bucket of the same tenant would fight, so the older one manages it and
// the other reports Conflict. A Bucket resource has no finalizer: deleting it stops the operator
// managing the bucket but deletes nothing on the agents (no admin route deletes data, and a
// bucket's locked versions must outlive any resource); offboarding erases a tenant's data.
import { isBeingDeleted } from '../runtime/finalizers.ts';
import type { AgentBucket, BucketSettings } from './agent-admin.ts';
import { type BucketResource, type BucketStatus, bucketNameOf, type TenantResource } from './kinds.ts';
import { oldestLive, type Plan, type Readiness, ready, resyncIntervalMs, waitingRetryMs } from './plan.ts';

export interface BucketObserved {
  nowMs: number;
  /** The Tenant resource the bucket names, if any. */
  tenant: TenantResource | undefined;
  /** Whether the agent holds the tenant (the Tenant controller may not have pushed it yet). */
  agentHasTenant: boolean;
  /** The tenant's bucket of this name on the agent, or null. */
  agentBucket: AgentBucket | null;
  /** Other Bucket resources naming the same bucket of the same tenant. */
  otherBuckets: BucketResource[];
}

export type BucketAction = { type: 'putBucket'; tenantId: string; bucket: string; settings: BucketSettings };

export type BucketPlan = Plan<BucketAction, BucketStatus>;

/** Of several Bucket resources for one bucket, the one that manages it: the oldest, then by name. */
export function managingBucket(buckets: BucketResource[]): BucketResource | undefined {
  return oldestLive(buckets);
}

export function reconcileBucket(bucket: BucketResource, observed: BucketObserved): BucketPlan {
  if (isBeingDeleted(bucket))
    return { actions: [], status: bucket.status ?? {}, events: [], finalizer: 'keep' };
  const tenantId = bucket.spec.tenantRef.name;
  const name = bucketNameOf(bucket);
  const waiting = (reason: string, message: string) =>
    finish(bucket, observed, [], { status: 'False', reason, message }, { requeueAfterMs: waitingRetryMs });
  const manager = managingBucket([bucket, ...observed.otherBuckets]);
  if (manager !== undefined && manager.metadata.name !== bucket.metadata.name) {
    const message = `Bucket ${manager.metadata.name} already manages bucket ${name} of tenant ${tenantId}`;
    return finish(
      bucket,
      observed,
      [],
      { status: 'False', reason: 'Conflict', message },
      { requeueAfterMs: resyncIntervalMs },
    );
  }
  if (observed.tenant === undefined) return waiting('TenantNotFound', `no Tenant ${tenantId}`);
  if (isBeingDeleted(observed.tenant))
    return waiting('TenantDeleting', `Tenant ${tenantId} is being deleted`);
  if (!observed.agentHasTenant)
    return waiting('TenantNotProvisioned', `the agent does not hold tenant ${tenantId} yet`);
  const agent = observed.agentBucket;
  const objectLock = bucket.spec.objectLock ?? false;
  if (agent !== null && objectLock && !agent.objectLockEnabled) {
    const message =
      'the bucket exists without Object Lock; S3 Object Lock is chosen when a bucket is created';
    return finish(
      bucket,
      observed,
      [],
      { status: 'False', reason: 'ObjectLockOnlyAtCreation', message },
      { terminal: true },
    );
  }
  const versioning = bucket.spec.versioning ?? 'Enabled';
  const quotaBytes = bucket.spec.quotaBytes ?? null;
  const actions: BucketAction[] = [];
  if (agent === null || agent.versioning !== versioning || agent.quotaBytes !== quotaBytes) {
    actions.push({
      type: 'putBucket',
      tenantId,
      bucket: name,
      settings: { versioning, objectLockEnabled: objectLock, quotaBytes },
    });
  }
  const message = `bucket ${name} exists on the agent with versioning ${versioning}${objectLock ? ' and Object Lock' : ''}`;
  return finish(
    bucket,
    observed,
    actions,
    { status: 'True', reason: 'Provisioned', message },
    { requeueAfterMs: resyncIntervalMs },
  );
}

function finish(
  bucket: BucketResource,
  observed: BucketObserved,
  actions: BucketAction[],
  readiness: Readiness,
  options: { terminal?: boolean; requeueAfterMs?: number },
): BucketPlan {
  const { conditions, events } = ready(
    bucket.status?.conditions,
    bucket.metadata.generation,
    readiness,
    observed.nowMs,
  );
  const agent = observed.agentBucket;
  const status: BucketStatus = {
    observedGeneration: bucket.metadata.generation,
    conditions,
    ...(agent === null
      ? {}
      : {
          versioning: agent.versioning,
          objectLockEnabled: agent.objectLockEnabled,
          quotaBytes: agent.quotaBytes,
          storedBytes: agent.usage.storedBytes,
          defaultRetention: agent.defaultRetention ?? null,
        }),
  };
  return {
    actions,
    status,
    events,
    finalizer: 'keep',
    requeueAfterMs: options.requeueAfterMs,
    terminal: options.terminal ? { reason: readiness.reason, message: readiness.message } : undefined,
  };
}
