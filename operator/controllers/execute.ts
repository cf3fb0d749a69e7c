// The thin executor every controller shares: observe, plan (pure), run the plan's actions, observe
// again and plan again so that the status written describes the agents after the actions, then
// write status, Events and finalizers. Agent refusals (4xx other than 404/408/429) become terminal
// errors; everything else is retried by the work queue with backoff.
import type { Clock } from '../runtime/clock.ts';
import type { Condition } from '../runtime/conditions.ts';
import { isTerminalError, kubernetesStatus, TerminalError } from '../runtime/errors.ts';
import { withFinalizer, withoutFinalizer } from '../runtime/finalizers.ts';
import type { CustomResource, EventRecorder, ResourceClient } from '../runtime/kube.ts';
import type { ReconcileResult } from '../runtime/work-queue.ts';
import { AgentAdminError } from './agent-admin.ts';
import { finalizerName } from './kinds.ts';
import { resyncIntervalMs as defaultResyncIntervalMs, type Plan, type PlannedEvent, ready } from './plan.ts';

/** Plans and runs in one reconcile: the second pass should find nothing left to do. */
const maximumPasses = 3;
/** When passes run out (the agent did not converge), look again soon. */
const unconvergedRetryMs = 5_000;

// biome-ignore lint/suspicious/noExplicitAny: any kind of custom resource.
export interface ExecuteOptions<Resource extends CustomResource<any, any>, Observed, Action> {
  resource: Resource;
  client: ResourceClient<Resource>;
  events: EventRecorder;
  clock: Clock;
  observe: (resource: Resource) => Promise<Observed>;
  plan: (resource: Resource, observed: Observed) => Plan<Action, NonNullable<Resource['status']>>;
  run: (action: Action) => Promise<void>;
  /**
   * Replaces the plan's periodic resync (plan.ts resyncIntervalMs, a minute) and caps its other
   * waits: shorter, usage figures are seen sooner; longer, a quieter operator.
   */
  resyncIntervalMs?: number;
}

/** Agent answers that retrying cannot change: the request itself is refused. */
export function asTerminal(error: unknown): unknown {
  if (error instanceof AgentAdminError && error.status >= 400 && error.status < 500) {
    if (error.status !== 404 && error.status !== 408 && error.status !== 429) {
      return new TerminalError(error.code, error.message);
    }
  }
  return error;
}

// biome-ignore lint/suspicious/noExplicitAny: any kind of custom resource.
export async function executePlan<Resource extends CustomResource<any, any>, Observed, Action>(
  options: ExecuteOptions<Resource, Observed, Action>,
): Promise<ReconcileResult> {
  const { client } = options;
  let resource = options.resource;
  const events: PlannedEvent[] = [];
  // Observing or acting on the agents may fail: the Ready condition says so before the retry.
  const guarded = async <Value>(step: () => Promise<Value>): Promise<Value> => {
    try {
      return await step();
    } catch (caught) {
      const error = asTerminal(caught);
      await reportFailure(options, resource, error);
      throw error;
    }
  };
  let plan = options.plan(resource, await guarded(() => options.observe(resource)));
  if (plan.finalizer === 'add') {
    const finalizers = withFinalizer(resource, finalizerName);
    const resourceVersion = await client.setFinalizers(
      resource.metadata.name,
      finalizers,
      resource.metadata.resourceVersion!,
    );
    resource = { ...resource, metadata: { ...resource.metadata, finalizers, resourceVersion } };
  }
  for (let pass = 1; plan.actions.length > 0; pass += 1) {
    if (pass > maximumPasses) {
      await writeStatus(options, resource, plan.status, events);
      return { requeueAfterMs: unconvergedRetryMs };
    }
    const actions = plan.actions;
    await guarded(async () => {
      for (const action of actions) await options.run(action);
    });
    events.push(...plan.events);
    resource = { ...resource, status: plan.status };
    plan = options.plan(resource, await guarded(() => options.observe(resource)));
  }
  events.push(...plan.events);
  await writeStatus(options, resource, plan.status, events);
  if (plan.finalizer === 'remove') await removeFinalizer(client, resource.metadata.name);
  if (plan.terminal !== undefined) throw new TerminalError(plan.terminal.reason, plan.terminal.message);
  const resync = options.resyncIntervalMs;
  if (resync === undefined || plan.requeueAfterMs === undefined)
    return { requeueAfterMs: plan.requeueAfterMs };
  if (plan.requeueAfterMs === defaultResyncIntervalMs) return { requeueAfterMs: resync };
  return { requeueAfterMs: Math.min(plan.requeueAfterMs, resync) };
}

/**
 * Removes our finalizer from the resource as the API server holds it now: the cached copy is
 * older than the status just written, and a stale resourceVersion would only earn a conflict.
 */
async function removeFinalizer<Resource extends CustomResource<unknown, object>>(
  client: ResourceClient<Resource>,
  name: string,
): Promise<void> {
  const current = await client.get(name);
  if (current === null || !(current.metadata.finalizers ?? []).includes(finalizerName)) return;
  try {
    await client.setFinalizers(
      name,
      withoutFinalizer(current, finalizerName),
      current.metadata.resourceVersion!,
    );
  } catch (error) {
    if (kubernetesStatus(error) !== 404) throw error;
  }
}

// biome-ignore lint/suspicious/noExplicitAny: any kind of custom resource.
async function writeStatus<Resource extends CustomResource<any, any>>(
  options: { client: ResourceClient<Resource>; events: EventRecorder; resource: Resource },
  resource: Resource,
  status: NonNullable<Resource['status']>,
  events: PlannedEvent[],
): Promise<string | undefined> {
  let resourceVersion: string | undefined;
  // The first status the API server holds is the one to compare with, not the intermediate ones.
  if (canonicalJson(options.resource.status ?? {}) !== canonicalJson(status)) {
    try {
      resourceVersion = await options.client.patchStatus(resource.metadata.name, status as object);
    } catch (error) {
      // Deleted meanwhile: nothing left to report on.
      if (kubernetesStatus(error) !== 404) throw error;
    }
  }
  for (const event of dedupe(events)) {
    await options.events
      .record({
        regarding: { kind: options.client.kind, name: resource.metadata.name, uid: resource.metadata.uid },
        ...event,
      })
      // An Event is informative: failing to write one must not fail the reconcile.
      .catch(() => {});
  }
  return resourceVersion;
}

// biome-ignore lint/suspicious/noExplicitAny: any kind of custom resource.
async function reportFailure<Resource extends CustomResource<any, any>, Observed, Action>(
  options: ExecuteOptions<Resource, Observed, Action>,
  resource: Resource,
  error: unknown,
): Promise<void> {
  // A conflict or a slow cache is the API server's business, not the resource's state: the retry
  // is enough, and a status saying "False" would be wrong.
  const kubernetesCode = kubernetesStatus(error);
  if (kubernetesCode === 409) return;
  const reason = isTerminalError(error)
    ? error.reason
    : kubernetesCode === undefined
      ? 'AgentUnavailable'
      : 'KubernetesApiError';
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  const previous = (resource.status as { conditions?: Condition[] } | undefined)?.conditions;
  const { conditions, events } = ready(
    previous,
    resource.metadata.generation,
    { status: 'False', reason, message },
    options.clock.nowMs(),
  );
  const status = { ...(resource.status ?? {}), observedGeneration: resource.metadata.generation, conditions };
  await writeStatus(options, resource, status as NonNullable<Resource['status']>, events).catch(() => {});
}

function dedupe(events: PlannedEvent[]): PlannedEvent[] {
  const seen = new Set<string>();
  return events.filter((event) => {
    const key = `${event.type}/${event.reason}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** JSON with object keys sorted, so that two equal statuses compare equal whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(
          Object.entries(item as Record<string, unknown>).sort(([left], [right]) => (left < right ? -1 : 1)),
        )
      : item,
  );
}
