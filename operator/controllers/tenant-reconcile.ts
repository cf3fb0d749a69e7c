// The Tenant reconciler, pure: from the Tenant resource and what the agent and the cluster hold,
// the calls that make the agent hold the tenant, its quota and its access keys, and the status.
//
// Deleting a Tenant resource revokes access; it never erases data. The admin API has no route
// that deletes anything (a locked version is out of its reach by design), and the end of a
// contract is a separate offboarding that waits for the last retain-until date and issues a
// deletion record. So: while any Bucket resource still names the tenant, the deletion waits
// (Ready=False, DeletionBlocked); then every key of the tenant is disabled (its secret replaced
// by a random one), its quota set to 0 bytes so nothing new is written, and the finalizer removed.
// The tenant's versions, locked or not, stay on the agents.

import { validateContract } from '../billing/contract.ts';
import { BillingError } from '../billing/errors.ts';
import { billedTerabytes } from '../billing/usage.ts';
import { hasFinalizer, isBeingDeleted } from '../runtime/finalizers.ts';
import type { SecretValue } from '../runtime/kube.ts';
import type { AgentKey, AgentTenant, AgentTenantUsage } from './agent-admin.ts';
import {
  finalizerName,
  type KeyRole,
  type TenantKeyStatus,
  type TenantResource,
  type TenantStatus,
} from './kinds.ts';
import { type Plan, type Readiness, ready, resyncIntervalMs, waitingRetryMs } from './plan.ts';

export interface TenantObserved {
  nowMs: number;
  /** The tenant as the agent holds it, or null when the agent does not know it. */
  agentTenant: AgentTenant | null;
  agentKeys: AgentKey[];
  /** Each spec key's secret by access key id; null when the Secret or its key is missing. */
  secrets: Record<string, SecretValue | null>;
  /** Bucket resources that name this tenant. */
  bucketResources: string[];
  usage: AgentTenantUsage | null;
}

export type TenantAction =
  | { type: 'putTenant'; tenantId: string; displayName: string; quotaBytes: number | null }
  | {
      type: 'putKey';
      tenantId: string;
      accessKeyId: string;
      role: KeyRole;
      enabled: boolean;
      secretAccessKey: string;
    }
  /** Replace the secret with a random one and disable the key: it can never sign again. */
  | { type: 'disableKey'; tenantId: string; accessKeyId: string; role: KeyRole };

export type TenantPlan = Plan<TenantAction, TenantStatus>;

export function reconcileTenant(tenant: TenantResource, observed: TenantObserved): TenantPlan {
  if (isBeingDeleted(tenant)) return reconcileTenantDeletion(tenant, observed);
  const invalid = contractProblem(tenant);
  if (invalid !== null) {
    return finish(
      tenant,
      observed,
      [],
      keysStatus(tenant, observed, new Set()),
      {
        status: 'False',
        reason: 'InvalidContract',
        message: invalid,
      },
      { terminal: true },
    );
  }
  const tenantId = tenant.metadata.name;
  const actions: TenantAction[] = [];
  const quotaBytes = tenant.spec.quotaBytes ?? null;
  const agentTenant = observed.agentTenant;
  if (
    agentTenant === null ||
    agentTenant.displayName !== tenant.spec.displayName ||
    agentTenant.quotaBytes !== quotaBytes
  ) {
    actions.push({ type: 'putTenant', tenantId, displayName: tenant.spec.displayName, quotaBytes });
  }
  const missingSecrets: string[] = [];
  const pushed = new Set<string>();
  const previousKeys = new Map((tenant.status?.accessKeys ?? []).map((key) => [key.accessKeyId, key]));
  for (const key of tenant.spec.accessKeys ?? []) {
    const secret = observed.secrets[key.accessKeyId] ?? null;
    if (secret === null) {
      missingSecrets.push(`${key.accessKeyId} (${key.secretRef.namespace}/${key.secretRef.name})`);
      continue;
    }
    const enabled = key.enabled ?? true;
    const onAgent = observed.agentKeys.find((candidate) => candidate.accessKeyId === key.accessKeyId);
    const previous = previousKeys.get(key.accessKeyId);
    const stale =
      onAgent === undefined ||
      onAgent.role !== key.role ||
      onAgent.enabled !== enabled ||
      previous?.secretResourceVersion !== secret.resourceVersion;
    if (stale) {
      actions.push({
        type: 'putKey',
        tenantId,
        accessKeyId: key.accessKeyId,
        role: key.role,
        enabled,
        secretAccessKey: secret.value,
      });
    }
    pushed.add(key.accessKeyId);
  }
  // A key removed from the spec must stop working: the agent would otherwise keep honouring it.
  const declared = new Set((tenant.spec.accessKeys ?? []).map((key) => key.accessKeyId));
  for (const key of observed.agentKeys) {
    if (!declared.has(key.accessKeyId) && key.enabled) {
      actions.push({ type: 'disableKey', tenantId, accessKeyId: key.accessKeyId, role: key.role });
    }
  }
  const readiness: Readiness =
    missingSecrets.length > 0
      ? {
          status: 'False',
          reason: 'SecretNotFound',
          message: `no secret for access keys ${missingSecrets.join(', ')}`,
        }
      : {
          status: 'True',
          reason: 'Provisioned',
          message: 'the agent holds the tenant, its quota and its access keys',
        };
  return finish(tenant, observed, actions, keysStatus(tenant, observed, pushed), readiness, {
    requeueAfterMs: missingSecrets.length > 0 ? waitingRetryMs : resyncIntervalMs,
  });
}

function reconcileTenantDeletion(tenant: TenantResource, observed: TenantObserved): TenantPlan {
  if (!hasFinalizer(tenant, finalizerName)) {
    return { actions: [], status: tenant.status ?? {}, events: [], finalizer: 'keep' };
  }
  if (observed.bucketResources.length > 0) {
    return finish(
      tenant,
      observed,
      [],
      tenant.status?.accessKeys ?? [],
      {
        status: 'False',
        reason: 'DeletionBlocked',
        message:
          `buckets ${observed.bucketResources.join(', ')} still belong to this tenant; delete them first ` +
          '(their versions stay on the agents: the operator never deletes data, locked or not)',
      },
      { requeueAfterMs: resyncIntervalMs, finalizer: 'keep' },
    );
  }
  const tenantId = tenant.metadata.name;
  const actions: TenantAction[] = observed.agentKeys
    .filter((key) => key.enabled)
    .map((key) => ({ type: 'disableKey', tenantId, accessKeyId: key.accessKeyId, role: key.role }));
  if (observed.agentTenant !== null && observed.agentTenant.quotaBytes !== 0) {
    actions.push({
      type: 'putTenant',
      tenantId,
      displayName: observed.agentTenant.displayName,
      quotaBytes: 0,
    });
  }
  const plan = finish(
    tenant,
    observed,
    actions,
    [],
    {
      status: 'False',
      reason: 'AccessRevoked',
      message:
        'the tenant is deleted: its keys are disabled and its quota is 0; its data stays until offboarding',
    },
    { finalizer: actions.length === 0 ? 'remove' : 'keep' },
  );
  return plan;
}

function contractProblem(tenant: TenantResource): string | null {
  const contract = tenant.spec.contract;
  try {
    validateContract({
      ...contract,
      company: { ...contract.company, address: contract.company.address },
      syntecIndices: [],
    });
    return null;
  } catch (error) {
    if (error instanceof BillingError) return error.message;
    throw error;
  }
}

function keysStatus(
  tenant: TenantResource,
  observed: TenantObserved,
  pushed: Set<string>,
): TenantKeyStatus[] {
  const previous = new Map((tenant.status?.accessKeys ?? []).map((key) => [key.accessKeyId, key]));
  return (tenant.spec.accessKeys ?? []).map((key) => {
    const secret = observed.secrets[key.accessKeyId];
    const secretResourceVersion = pushed.has(key.accessKeyId)
      ? secret?.resourceVersion
      : previous.get(key.accessKeyId)?.secretResourceVersion;
    return {
      accessKeyId: key.accessKeyId,
      role: key.role,
      enabled: key.enabled ?? true,
      ...(secretResourceVersion === undefined ? {} : { secretResourceVersion }),
    };
  });
}

function finish(
  tenant: TenantResource,
  observed: TenantObserved,
  actions: TenantAction[],
  accessKeys: TenantKeyStatus[],
  readiness: Readiness,
  options: { terminal?: boolean; requeueAfterMs?: number; finalizer?: TenantPlan['finalizer'] },
): TenantPlan {
  const { conditions, events } = ready(
    tenant.status?.conditions,
    tenant.metadata.generation,
    readiness,
    observed.nowMs,
  );
  const status: TenantStatus = {
    observedGeneration: tenant.metadata.generation,
    conditions,
    accessKeys,
    buckets: observed.agentTenant?.buckets ?? [],
    ...(observed.usage === null ? {} : { usage: usageStatus(observed.usage, observed.nowMs) }),
  };
  return {
    actions,
    status,
    events,
    finalizer:
      options.finalizer ?? (options.terminal || hasFinalizer(tenant, finalizerName) ? 'keep' : 'add'),
    requeueAfterMs: options.requeueAfterMs,
    terminal: options.terminal ? { reason: readiness.reason, message: readiness.message } : undefined,
  };
}

function usageStatus(usage: AgentTenantUsage, nowMs: number) {
  return {
    storedBytes: usage.storedBytes,
    retainedBytes: usage.retainedBytes,
    billedTerabytes: billedTerabytes(usage.storedBytes),
    currentMonthPeakBytes: usage.currentMonth.peakBytes,
    currentMonthBilledTerabytes: billedTerabytes(usage.currentMonth.peakBytes),
    measuredAt: new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
}
