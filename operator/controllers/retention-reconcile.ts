// The RetentionPolicy reconciler, pure: the bucket's default retention on the agent is the
// policy's (S3 ObjectLockConfiguration Rule.DefaultRetention). One policy per bucket: when several
// name the same bucket, the oldest applies and the others report Conflict. Deleting a policy removes
// the bucket's default retention (a finalizer makes sure of it); versions already written keep their
// retain-until dates, which nothing can shorten.
import { hasFinalizer, isBeingDeleted } from '../runtime/finalizers.ts';
import type { AgentBucket } from './agent-admin.ts';
import {
  type BucketResource,
  type DefaultRetention,
  finalizerName,
  type RetentionPolicyResource,
  type RetentionPolicyStatus,
} from './kinds.ts';
import { oldestLive, type Plan, type Readiness, ready, resyncIntervalMs, waitingRetryMs } from './plan.ts';

export interface RetentionObserved {
  nowMs: number;
  bucket: BucketResource | undefined;
  /**
   * The agent's bucket the policy applies to: the Bucket resource's, or, once that resource is
   * gone, the one recorded in status.appliedTo (so a deletion can still clear it).
   */
  agentBucket: AgentBucket | null;
  /** The other RetentionPolicy resources naming the same bucket. */
  otherPolicies: RetentionPolicyResource[];
}

export type RetentionAction = {
  type: 'putDefaultRetention';
  bucket: string;
  tenantId: string;
  defaultRetention: DefaultRetention | null;
};

export type RetentionPlan = Plan<RetentionAction, RetentionPolicyStatus>;

export function desiredRetention(policy: RetentionPolicyResource): DefaultRetention {
  const { mode, days, years } = policy.spec;
  return { mode, ...(days === undefined ? {} : { days }), ...(years === undefined ? {} : { years }) };
}

export function sameRetention(left: DefaultRetention | null, right: DefaultRetention | null): boolean {
  if (left === null || right === null) return left === right;
  return left.mode === right.mode && left.days === right.days && left.years === right.years;
}

/** The policy that applies to a bucket among several: the oldest, then by name. */
export function applyingPolicy(policies: RetentionPolicyResource[]): RetentionPolicyResource | undefined {
  return oldestLive(policies);
}

export function reconcileRetentionPolicy(
  policy: RetentionPolicyResource,
  observed: RetentionObserved,
): RetentionPlan {
  const bucketName = policy.spec.bucketRef.name;
  const agent = observed.agentBucket;
  if (isBeingDeleted(policy)) {
    if (!hasFinalizer(policy, finalizerName))
      return { actions: [], status: policy.status ?? {}, events: [], finalizer: 'keep' };
    // Another policy takes over the bucket: leave its default retention to it.
    const successor = applyingPolicy(observed.otherPolicies);
    const actions: RetentionAction[] =
      successor === undefined && agent !== null && agent.objectLockEnabled && agent.defaultRetention !== null
        ? [
            {
              type: 'putDefaultRetention',
              bucket: agent.name,
              tenantId: agent.tenantId,
              defaultRetention: null,
            },
          ]
        : [];
    return {
      ...finish(
        policy,
        observed,
        actions,
        {
          status: 'False',
          reason: 'Removed',
          message:
            'the policy is deleted: new versions get no default retention; locked versions keep their dates',
        },
        {},
      ),
      finalizer: actions.length === 0 ? 'remove' : 'keep',
    };
  }
  const winner = applyingPolicy([policy, ...observed.otherPolicies]);
  if (winner !== undefined && winner.metadata.name !== policy.metadata.name) {
    return finish(
      policy,
      observed,
      [],
      {
        status: 'False',
        reason: 'Conflict',
        message: `RetentionPolicy ${winner.metadata.name} already sets the default retention of bucket ${bucketName}`,
      },
      { requeueAfterMs: resyncIntervalMs },
    );
  }
  const waiting = (reason: string, message: string) =>
    finish(policy, observed, [], { status: 'False', reason, message }, { requeueAfterMs: waitingRetryMs });
  if (observed.bucket === undefined) return waiting('BucketNotFound', `no Bucket ${bucketName}`);
  if (agent === null)
    return waiting('BucketNotProvisioned', `the agent does not hold bucket ${bucketName} yet`);
  if (!agent.objectLockEnabled) {
    return finish(
      policy,
      observed,
      [],
      {
        status: 'False',
        reason: 'ObjectLockNotEnabled',
        message: `bucket ${bucketName} has no Object Lock; a default retention needs a Bucket with objectLock: true`,
      },
      { requeueAfterMs: resyncIntervalMs },
    );
  }
  const desired = desiredRetention(policy);
  const actions: RetentionAction[] = sameRetention(agent.defaultRetention, desired)
    ? []
    : [
        {
          type: 'putDefaultRetention',
          bucket: agent.name,
          tenantId: agent.tenantId,
          defaultRetention: desired,
        },
      ];
  const period = desired.days !== undefined ? `${desired.days} days` : `${desired.years} years`;
  return finish(
    policy,
    observed,
    actions,
    {
      status: 'True',
      reason: 'Applied',
      message: `new versions in ${bucketName} are locked in ${desired.mode} mode for ${period}`,
    },
    { requeueAfterMs: resyncIntervalMs },
  );
}

function finish(
  policy: RetentionPolicyResource,
  observed: RetentionObserved,
  actions: RetentionAction[],
  readiness: Readiness,
  options: { requeueAfterMs?: number },
): RetentionPlan {
  const { conditions, events } = ready(
    policy.status?.conditions,
    policy.metadata.generation,
    readiness,
    observed.nowMs,
  );
  return {
    actions,
    status: {
      observedGeneration: policy.metadata.generation,
      conditions,
      appliedRetention: observed.agentBucket?.defaultRetention ?? null,
      ...(observed.agentBucket === null
        ? policy.status?.appliedTo === undefined
          ? {}
          : { appliedTo: policy.status.appliedTo }
        : { appliedTo: { tenantId: observed.agentBucket.tenantId, bucket: observed.agentBucket.name } }),
    },
    events,
    finalizer: hasFinalizer(policy, finalizerName) ? 'keep' : 'add',
    requeueAfterMs: options.requeueAfterMs,
  };
}
