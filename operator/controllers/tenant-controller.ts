// The Tenant controller's executor: gathers what the agent and the cluster hold, runs the pure
// reconciler's plan (tenant-reconcile.ts) against the agent admin API.
import type { SecretValue } from '../runtime/kube.ts';
import type { ReconcileResult } from '../runtime/work-queue.ts';
import type { ControllerContext } from './context.ts';
import { executePlan } from './execute.ts';
import { bucketsOfTenant, type TenantResource } from './kinds.ts';
import { reconcileTenant, type TenantAction, type TenantObserved } from './tenant-reconcile.ts';

export async function observeTenant(
  context: ControllerContext,
  tenant: TenantResource,
): Promise<TenantObserved> {
  const tenantId = tenant.metadata.name;
  const agentTenant = await context.admin.getTenant(tenantId);
  const secrets: Record<string, SecretValue | null> = {};
  for (const key of tenant.spec.accessKeys ?? []) {
    const { namespace, name, key: field } = key.secretRef;
    secrets[key.accessKeyId] = await context.secrets.read(namespace, name, field ?? 'secretAccessKey');
  }
  return {
    nowMs: context.clock.nowMs(),
    agentTenant,
    agentKeys: agentTenant === null ? [] : await context.admin.listKeys(tenantId),
    secrets,
    bucketResources: bucketsOfTenant(context.buckets.cache.list(), tenantId)
      .map((bucket) => bucket.metadata.name)
      .sort(),
    usage: agentTenant === null ? null : await context.admin.getUsage(tenantId),
  };
}

export async function runTenantAction(context: ControllerContext, action: TenantAction): Promise<void> {
  switch (action.type) {
    case 'putTenant':
      await context.admin.putTenant(action.tenantId, {
        displayName: action.displayName,
        quotaBytes: action.quotaBytes,
      });
      return;
    case 'putKey':
      await context.admin.putKey(action.tenantId, action.accessKeyId, {
        secretAccessKey: action.secretAccessKey,
        role: action.role,
        enabled: action.enabled,
      });
      return;
    case 'disableKey':
      await context.admin.putKey(action.tenantId, action.accessKeyId, {
        secretAccessKey: context.randomSecret(),
        role: action.role,
        enabled: false,
      });
      return;
  }
}

/** Reconciles the Tenant named `name` (the work queue's key). */
export async function reconcileTenantKey(
  context: ControllerContext,
  name: string,
): Promise<ReconcileResult | undefined> {
  const tenant = context.tenants.cache.get(name);
  if (tenant === undefined) return undefined;
  return executePlan({
    resource: tenant,
    client: context.tenants.client,
    events: context.events,
    clock: context.clock,
    resyncIntervalMs: context.resyncIntervalMs,
    observe: (resource) => observeTenant(context, resource),
    plan: reconcileTenant,
    run: (action) => runTenantAction(context, action),
  });
}
