// Resources as the API server would return them, for the reconcilers' unit tests.
import type {
  BucketResource,
  RetentionPolicyResource,
  TenantResource,
} from '../../operator/controllers/kinds.ts';

export const nowMs = Date.UTC(2026, 10, 29, 12, 0, 0);

/** A Tenant's contract as the CRD takes it: a valid SIREN; the price left to the CRD's default. */
export function tenantContract(contractNumber: string) {
  return {
    contractNumber,
    company: {
      name: 'ACME SAS',
      siren: '732829320',
      address: { lines: ['1 rue de la Paix'], postalCode: '75002', city: 'Paris', country: 'FR' },
    },
    representativeName: 'Jeanne Martin',
    committedTerabytes: 5,
    periodicity: 'annual' as const,
    startDate: '2026-01-01',
    syntecIndexAtSignature: '297.4',
  };
}

export function tenant(
  overrides: {
    spec?: Partial<TenantResource['spec']>;
    metadata?: Partial<TenantResource['metadata']>;
    status?: TenantResource['status'];
  } = {},
): TenantResource {
  return {
    apiVersion: 'coffre.infofy.fr/v1alpha1',
    kind: 'Tenant',
    metadata: {
      name: 'acme',
      generation: 1,
      resourceVersion: '10',
      uid: 'uid-acme',
      finalizers: ['coffre.infofy.fr/agents'],
      ...overrides.metadata,
    },
    spec: {
      displayName: 'ACME SAS',
      quotaBytes: 5_000_000_000_000,
      contract: { ...tenantContract('CSI-2026-0042'), priceCentsPerTerabyteMonth: 2300 },
      accessKeys: [
        {
          accessKeyId: 'ACMEBACKUPKEY00001',
          role: 'write-only',
          enabled: true,
          secretRef: { namespace: 'tenants', name: 'acme-keys' },
        },
      ],
      ...overrides.spec,
    },
    ...(overrides.status === undefined ? {} : { status: overrides.status }),
  };
}

export function bucket(
  overrides: {
    spec?: Partial<BucketResource['spec']>;
    metadata?: Partial<BucketResource['metadata']>;
    status?: BucketResource['status'];
  } = {},
): BucketResource {
  return {
    apiVersion: 'coffre.infofy.fr/v1alpha1',
    kind: 'Bucket',
    metadata: {
      name: 'acme-veeam',
      generation: 1,
      resourceVersion: '20',
      uid: 'uid-bucket',
      ...overrides.metadata,
    },
    spec: { tenantRef: { name: 'acme' }, versioning: 'Enabled', objectLock: true, ...overrides.spec },
    ...(overrides.status === undefined ? {} : { status: overrides.status }),
  };
}

export function policy(
  overrides: {
    spec?: Partial<RetentionPolicyResource['spec']>;
    metadata?: Partial<RetentionPolicyResource['metadata']>;
  } = {},
): RetentionPolicyResource {
  return {
    apiVersion: 'coffre.infofy.fr/v1alpha1',
    kind: 'RetentionPolicy',
    metadata: {
      name: 'acme-veeam-30d',
      generation: 1,
      resourceVersion: '30',
      uid: 'uid-policy',
      creationTimestamp: new Date('2026-11-01T00:00:00Z'),
      finalizers: ['coffre.infofy.fr/agents'],
      ...overrides.metadata,
    },
    spec: { bucketRef: { name: 'acme-veeam' }, mode: 'COMPLIANCE', days: 30, ...overrides.spec },
  };
}
