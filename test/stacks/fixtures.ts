// Region configurations for tests: a valid 3-datacenter region, and variations of it.
import type { RegionConfig } from '../../stacks/region-config.ts';

export function threeDatacenterRegion(overrides: Partial<RegionConfig> = {}): RegionConfig {
  return {
    name: 'fr-par',
    ovhSubsidiary: 'FR',
    osTemplate: 'debian12_64',
    systemDiskGroupId: 1,
    server: {
      planCode: '24sys01-stor',
      duration: 'P1M',
      pricingMode: 'default',
      options: [{ planCode: 'ram-64g-ecc-2400', quantity: 1 }],
    },
    hosts: [
      { name: 'par-1', datacenter: 'par' },
      { name: 'gra-1', datacenter: 'gra' },
      { name: 'rbx-1', datacenter: 'rbx' },
    ],
    availableDatacenters: ['gra', 'rbx', 'sbg', 'par'],
    privateNetworkCidr: '10.42.0.0/24',
    s3Port: 443,
    adminPort: 9443,
    sshPublicKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAdmin admin@coffre'],
    adminSourceCidrs: ['203.0.113.10/32'],
    ...overrides,
  };
}
