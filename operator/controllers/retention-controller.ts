// The RetentionPolicy controller's executor over the pure reconciler in retention-reconcile.ts.
import type { ReconcileResult } from '../runtime/work-queue.ts';
import type { ControllerContext } from './context.ts';
import { executePlan } from './execute.ts';
import { bucketNameOf, policiesOfBucket, type RetentionPolicyResource } from './kinds.ts';
import {
  type RetentionAction,
  type RetentionObserved,
  reconcileRetentionPolicy,
} from './retention-reconcile.ts';

export async function observeRetentionPolicy(
  context: ControllerContext,
  policy: RetentionPolicyResource,
): Promise<RetentionObserved> {
  const bucketName = policy.spec.bucketRef.name;
  const bucket = context.buckets.cache.get(bucketName);
  const target =
    bucket === undefined
      ? policy.status?.appliedTo
      : { tenantId: bucket.spec.tenantRef.name, bucket: bucketNameOf(bucket) };
  return {
    nowMs: context.clock.nowMs(),
    bucket,
    agentBucket: target === undefined ? null : await context.admin.getBucket(target.tenantId, target.bucket),
    otherPolicies: policiesOfBucket(context.retentionPolicies.cache.list(), bucketName).filter(
      (other) => other.metadata.name !== policy.metadata.name,
    ),
  };
}

export async function runRetentionAction(context: ControllerContext, action: RetentionAction): Promise<void> {
  await context.admin.putBucket(action.tenantId, action.bucket, {
    defaultRetention: action.defaultRetention,
  });
}

export async function reconcileRetentionPolicyKey(
  context: ControllerContext,
  name: string,
): Promise<ReconcileResult | undefined> {
  const policy = context.retentionPolicies.cache.get(name);
  if (policy === undefined) return undefined;
  return executePlan({
    resource: policy,
    client: context.retentionPolicies.client,
    events: context.events,
    clock: context.clock,
    resyncIntervalMs: context.resyncIntervalMs,
    observe: (resource) => observeRetentionPolicy(context, resource),
    plan: reconcileRetentionPolicy,
    run: (action) => runRetentionAction(context, action),
  });
}
