// The Region custom resource (operator/crds/region.yaml) as TypeScript types: what a platform
// engineer declares (spec) and what the Region controller reports (status).
import type { Condition } from '../runtime/conditions.ts';
import type { CustomResource } from '../runtime/kube.ts';

export interface RegionSecretReference {
  namespace: string;
  name: string;
  key?: string;
}

export interface RegionHostSpec {
  name: string;
  datacenter: string;
  privateAddress?: string;
  /** The host's SSH key fingerprint as `ssh-keygen -l -E sha256` prints it: the rollout refuses any other. */
  sshHostKeySha256?: string;
}

export interface RegionSpec {
  datacenters: string[];
  hostCount: number;
  hosts?: RegionHostSpec[];
  /** The agent release (bundle version) every host should run. */
  agentVersion: string;
  ovhSubsidiary?: string;
  osTemplate?: string;
  systemDiskGroupId?: number;
  server: {
    planCode: string;
    duration?: string;
    pricingMode?: string;
    options?: { planCode: string; quantity: number }[];
  };
  privateNetworkCidr: string;
  vrackServiceName?: string;
  s3Port?: number;
  adminPort?: number;
  sshPublicKeys: string[];
  adminSourceCidrs: string[];
  dns?: { zone: string; subdomain: string };
  rollout?: { maxParallelHosts?: number; quorum?: number };
  /** The agents' admin credentials: keys `accessKeyId` and `key` (default `secretAccessKey`). */
  adminKeySecretRef: RegionSecretReference;
  /** The rollout's SSH private key: key `key` (default `ssh-privatekey`, as a kubernetes.io/ssh-auth Secret). */
  sshKeySecretRef: RegionSecretReference;
}

export interface RegionHostStatus {
  name: string;
  datacenter?: string;
  agentVersion?: string;
  healthy?: boolean;
}

export interface RegionStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  /** The version every host runs, when they agree. */
  agentVersion?: string;
  readyHosts?: number;
  hosts?: RegionHostStatus[];
}

export type RegionResource = CustomResource<RegionSpec, RegionStatus>;
