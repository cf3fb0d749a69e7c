// The operator's custom resources (operator/crds/*.yaml) as TypeScript types: what a platform
// engineer declares (spec) and what the operator reports (status).
import type { Condition } from '../runtime/conditions.ts';
import type { CustomResource, ResourceKind } from '../runtime/kube.ts';

export const group = 'coffre.infofy.fr';
export const version = 'v1alpha1';

export const tenantKind: ResourceKind = { group, version, kind: 'Tenant', plural: 'tenants' };
export const bucketKind: ResourceKind = { group, version, kind: 'Bucket', plural: 'buckets' };
export const retentionPolicyKind: ResourceKind = {
  group,
  version,
  kind: 'RetentionPolicy',
  plural: 'retentionpolicies',
};
export const regionKind: ResourceKind = { group, version, kind: 'Region', plural: 'regions' };

/** The finalizer the operator puts on resources whose deletion needs work on the agents. */
export const finalizerName = 'coffre.infofy.fr/agents';

/** The one condition every kind reports, as kubectl wait --for=condition=Ready expects. */
export const readyCondition = 'Ready';

export type KeyRole = 'full' | 'read-only' | 'write-only';
export type RetentionMode = 'GOVERNANCE' | 'COMPLIANCE';

export interface SecretKeyReference {
  namespace: string;
  name: string;
  /** Default secretAccessKey. */
  key?: string;
}

export interface TenantAccessKeySpec {
  accessKeyId: string;
  role: KeyRole;
  enabled?: boolean;
  secretRef: SecretKeyReference;
}

export interface TenantContractSpec {
  contractNumber: string;
  company: {
    name: string;
    siren: string;
    siret?: string;
    vatNumber?: string;
    address: { lines: string[]; postalCode: string; city: string; country: string };
  };
  representativeName: string;
  committedTerabytes: number;
  periodicity?: 'annual' | 'monthly';
  priceCentsPerTerabyteMonth?: number;
  startDate: string;
  syntecIndexAtSignature: string;
}

export interface TenantSpec {
  displayName: string;
  quotaBytes?: number;
  contract: TenantContractSpec;
  accessKeys?: TenantAccessKeySpec[];
}

export interface TenantKeyStatus {
  accessKeyId: string;
  role: KeyRole;
  enabled: boolean;
  /** The resourceVersion of the Secret whose value was last pushed (never the secret itself). */
  secretResourceVersion?: string;
}

export interface TenantUsageStatus {
  storedBytes: number;
  retainedBytes: number;
  /** Stored bytes in started To (10^12 bytes), as the general terms bill them. */
  billedTerabytes: number;
  currentMonthPeakBytes: number;
  currentMonthBilledTerabytes: number;
  measuredAt: string;
}

export interface TenantStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  usage?: TenantUsageStatus;
  buckets?: string[];
  accessKeys?: TenantKeyStatus[];
}

export type TenantResource = CustomResource<TenantSpec, TenantStatus>;

export interface BucketSpec {
  tenantRef: { name: string };
  /** The S3 bucket name, unique within the tenant; default metadata.name. */
  name?: string;
  versioning?: 'Enabled' | 'Suspended';
  objectLock?: boolean;
  quotaBytes?: number;
}

export interface DefaultRetention {
  mode: RetentionMode;
  days?: number;
  years?: number;
}

export interface BucketStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  versioning?: string;
  objectLockEnabled?: boolean;
  quotaBytes?: number | null;
  storedBytes?: number;
  defaultRetention?: DefaultRetention | null;
}

export type BucketResource = CustomResource<BucketSpec, BucketStatus>;

/** The bucket's S3 name: spec.name, else the resource's name. */
export function bucketNameOf(bucket: BucketResource): string {
  return bucket.spec.name ?? bucket.metadata.name;
}

// The relations between the kinds, as both the executors (what to observe) and the operator's
// watches (what to wake on a change) need them: one definition each.

/** The Buckets of a Tenant. */
export function bucketsOfTenant(buckets: readonly BucketResource[], tenantId: string): BucketResource[] {
  return buckets.filter((bucket) => bucket.spec.tenantRef.name === tenantId);
}

/** The other Buckets that name the same agent bucket (same tenant, same S3 name). */
export function bucketsSharingName(
  buckets: readonly BucketResource[],
  bucket: BucketResource,
): BucketResource[] {
  return buckets.filter(
    (other) =>
      other.metadata.name !== bucket.metadata.name &&
      other.spec.tenantRef.name === bucket.spec.tenantRef.name &&
      bucketNameOf(other) === bucketNameOf(bucket),
  );
}

/** The RetentionPolicies that point at a Bucket resource. */
export function policiesOfBucket(
  policies: readonly RetentionPolicyResource[],
  bucketResourceName: string,
): RetentionPolicyResource[] {
  return policies.filter((policy) => policy.spec.bucketRef.name === bucketResourceName);
}

export interface RetentionPolicySpec {
  bucketRef: { name: string };
  mode: RetentionMode;
  days?: number;
  years?: number;
}

export interface RetentionPolicyStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  appliedRetention?: DefaultRetention | null;
  /** The agent bucket the retention was applied to (bucket names are per tenant). */
  appliedTo?: { tenantId: string; bucket: string };
}

export type RetentionPolicyResource = CustomResource<RetentionPolicySpec, RetentionPolicyStatus>;
