// The Bucket controller's executor over the pure reconciler in bucket-reconcile.ts.
import type { ReconcileResult } from '../runtime/work-queue.ts';
import { type BucketAction, type BucketObserved, reconcileBucket } from './bucket-reconcile.ts';
import type { ControllerContext } from './context.ts';
import { executePlan } from './execute.ts';
import { type BucketResource, bucketNameOf, bucketsSharingName } from './kinds.ts';

export async function observeBucket(
  context: ControllerContext,
  bucket: BucketResource,
): Promise<BucketObserved> {
  const tenantId = bucket.spec.tenantRef.name;
  const name = bucketNameOf(bucket);
  const agentHasTenant = (await context.admin.getTenant(tenantId)) !== null;
  return {
    nowMs: context.clock.nowMs(),
    tenant: context.tenants.cache.get(tenantId),
    agentHasTenant,
    agentBucket: agentHasTenant ? await context.admin.getBucket(tenantId, name) : null,
    otherBuckets: bucketsSharingName(context.buckets.cache.list(), bucket),
  };
}

export async function runBucketAction(context: ControllerContext, action: BucketAction): Promise<void> {
  await context.admin.putBucket(action.tenantId, action.bucket, action.settings);
}

export async function reconcileBucketKey(
  context: ControllerContext,
  name: string,
): Promise<ReconcileResult | undefined> {
  const bucket = context.buckets.cache.get(name);
  if (bucket === undefined) return undefined;
  return executePlan({
    resource: bucket,
    client: context.buckets.client,
    events: context.events,
    clock: context.clock,
    resyncIntervalMs: context.resyncIntervalMs,
    observe: (resource) => observeBucket(context, resource),
    plan: reconcileBucket,
    run: (action) => runBucketAction(context, action),
  });
}
