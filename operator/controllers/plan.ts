// What every pure reconciler returns, and the Ready condition they all compute the same way.
import { type Condition, type ConditionStatus, findCondition, setCondition } from '../runtime/conditions.ts';
import { isBeingDeleted } from '../runtime/finalizers.ts';
import { readyCondition } from './kinds.ts';

export interface PlannedEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface Plan<Action, Status> {
  /** Calls to the agents, in order. */
  actions: Action[];
  /** The status to write once the actions are done. */
  status: Status;
  events: PlannedEvent[];
  /** add: before any action (so a deletion is never missed); remove: last, once clean-up is done. */
  finalizer: 'add' | 'remove' | 'keep';
  requeueAfterMs?: number;
  /** Retrying cannot help until the resource changes: the runtime does not retry the key. */
  terminal?: { reason: string; message: string };
}

export interface Readiness {
  status: ConditionStatus;
  reason: string;
  message: string;
}

/**
 * The Ready condition set from `readiness`, and an Event when it changed (status or reason), so
 * that a resync every minute does not flood `kubectl get events` with the same line.
 */
export function ready(
  previous: readonly Condition[] | undefined,
  generation: number | undefined,
  readiness: Readiness,
  nowMs: number,
): { conditions: Condition[]; events: PlannedEvent[] } {
  const before = findCondition(previous, readyCondition);
  const conditions = setCondition(
    previous,
    { type: readyCondition, ...readiness, observedGeneration: generation },
    nowMs,
  );
  const changed =
    before === undefined || before.status !== readiness.status || before.reason !== readiness.reason;
  const events: PlannedEvent[] = changed
    ? [
        {
          type: readiness.status === 'True' ? 'Normal' : 'Warning',
          reason: readiness.reason,
          message: readiness.message,
        },
      ]
    : [];
  return { conditions, events };
}

/** How often a Ready resource is reconciled again anyway (usage figures, drift on the agents). */
export const resyncIntervalMs = 60_000;
/** How soon a resource waiting on another one (a Secret, its tenant, its bucket) looks again. */
export const waitingRetryMs = 10_000;

/**
 * Of several resources that claim one thing (Buckets naming one agent bucket, policies of one
 * Bucket), the one that wins: the oldest not being deleted, then by name.
 */
export function oldestLive<
  Resource extends { metadata: { name: string; creationTimestamp?: unknown; deletionTimestamp?: unknown } },
>(resources: readonly Resource[]): Resource | undefined {
  const age = (resource: Resource) => Date.parse(String(resource.metadata.creationTimestamp ?? ''));
  return resources
    .filter((resource) => !isBeingDeleted(resource))
    .sort((left, right) => {
      const byAge = age(left) - age(right);
      if (byAge !== 0 && !Number.isNaN(byAge)) return byAge;
      return left.metadata.name < right.metadata.name ? -1 : 1;
    })[0];
}
