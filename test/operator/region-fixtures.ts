// A valid Region as the API server would return it, and stack outputs for it, for the Region
// controller's tests.
import type { RegionResource, RegionSpec } from '../../operator/controllers/region-kinds.ts';
import type { HostOutputs } from '../../stacks/host.ts';
import type { RegionOutputs } from '../../stacks/region.ts';

export const regionSpec: RegionSpec = {
  datacenters: ['gra', 'rbx', 'sbg'],
  hostCount: 3,
  agentVersion: '0.1.0+0123456789ab',
  server: { planCode: '24sk60' },
  privateNetworkCidr: '10.42.0.0/24',
  sshPublicKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOperatorRolloutKeyForTests coffre-operator'],
  adminSourceCidrs: ['203.0.113.10/32'],
  adminKeySecretRef: { namespace: 'coffre-system', name: 'agent-admin' },
  sshKeySecretRef: { namespace: 'coffre-system', name: 'rollout-ssh' },
};

export function region(
  overrides: { spec?: Partial<RegionSpec>; status?: RegionResource['status']; name?: string } = {},
): RegionResource {
  return {
    apiVersion: 'coffre.infofy.fr/v1alpha1',
    kind: 'Region',
    metadata: { name: overrides.name ?? 'fr-test', generation: 1, resourceVersion: '7', uid: 'uid-fr-test' },
    spec: { ...regionSpec, ...overrides.spec },
    ...(overrides.status ? { status: overrides.status } : {}),
  };
}

/** What `pulumi up` of the region's stack would output: one host per datacenter, one replica set. */
export function stackOutputs(hosts: { name: string; datacenter: string; address: string }[]): RegionOutputs {
  const hostOutputs: HostOutputs[] = hosts.map((host, index) => ({
    name: host.name,
    datacenter: host.datacenter,
    serviceName: `ns${index + 1}.ip-203-0-113.eu`,
    publicAddress: host.address,
    privateAddress: `10.42.0.${index + 2}`,
    drives: [],
  }));
  const names = hosts.map((host) => host.name).sort();
  return {
    region: 'fr-test',
    hosts: hostOutputs,
    s3Endpoint: `https://${hosts[0]?.address}`,
    replicaSets: [
      {
        id: names.join('+'),
        hosts: names,
        datacenters: [...new Set(hosts.map((host) => host.datacenter))].sort(),
      },
    ],
    vrackServiceName: 'pn-12345',
  };
}
