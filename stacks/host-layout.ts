// What one host looks like at OVHcloud, computed from the region's configuration: the order, the disk
// layout, the private address, the firewall rules, the first-boot user data and the drive list. Pure
// (no Pulumi), so each decision is tested on its own and the component only wires the results.
import { stringify } from 'yaml';
import {
  datacenterSite,
  type HostConfig,
  parseIpv4Cidr,
  type RegionConfig,
  SSH_PORT,
  SYSTEM_DRIVE_COUNT,
} from './region-config.ts';

/** The order places the server; the OS comes from the install below, so the order asks for none. */
const ORDER_OS_NONE = 'none_64.en';
/** OVHcloud's order catalogue groups European datacenters under this region. */
const ORDER_REGION_EUROPE = 'europe';
const BOOT_PARTITION_MIB = 1024;

export interface OrderPlan {
  planCode: string;
  duration: string;
  pricingMode: string;
  quantity: number;
  configurations: { label: string; value: string }[];
}

export interface OrderOption {
  planCode: string;
  duration: string;
  pricingMode: string;
  quantity: number;
}

/** The server's order: its offer, in the host's French datacenter site. */
export function orderPlan(
  config: RegionConfig,
  host: HostConfig,
): { plans: OrderPlan[]; options: OrderOption[] } {
  return {
    plans: [
      {
        planCode: config.server.planCode,
        duration: config.server.duration,
        pricingMode: config.server.pricingMode,
        quantity: 1,
        configurations: [
          { label: 'dedicated_datacenter', value: datacenterSite(host.datacenter) },
          { label: 'dedicated_os', value: ORDER_OS_NONE },
          { label: 'region', value: ORDER_REGION_EUROPE },
        ],
      },
    ],
    options: config.server.options.map((option) => ({
      planCode: option.planCode,
      duration: config.server.duration,
      pricingMode: config.server.pricingMode,
      quantity: option.quantity,
    })),
  };
}

export interface PartitionLayout {
  mountPoint: string;
  fileSystem: string;
  raidLevel: number;
  /** MiB; 0 fills the rest of the drives. */
  size: number;
}

export interface StorageLayout {
  diskGroupId: number;
  partitioning: { disks: number; layouts: PartitionLayout[] };
}

/**
 * The system on a software RAID 1 over the first 2 drives of the system disk group (`disks: 2` limits
 * the partitioning to them), so losing one system drive stops nothing. Every other drive is left
 * untouched for the agent, which erasure-codes across them itself: a RAID under it would only waste
 * capacity and hide failures from its checksums.
 */
export function systemStorageLayout(config: RegionConfig): StorageLayout[] {
  return [
    {
      diskGroupId: config.systemDiskGroupId,
      partitioning: {
        disks: SYSTEM_DRIVE_COUNT,
        layouts: [
          { mountPoint: '/boot', fileSystem: 'ext4', raidLevel: 1, size: BOOT_PARTITION_MIB },
          { mountPoint: '/', fileSystem: 'ext4', raidLevel: 1, size: 0 },
        ],
      },
    },
  ];
}

function ipv4ToString(address: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256).join('.');
}

/** The host's vRack address: host n of the region (from 0) gets the subnet's address n + 1. */
export function privateAddress(cidr: string, hostIndex: number): { address: string; prefixLength: number } {
  const subnet = parseIpv4Cidr(cidr);
  if (subnet === null) throw new RangeError(`not an IPv4 CIDR: ${cidr}`);
  const size = 2 ** (32 - subnet.prefixLength);
  const network = subnet.address - (subnet.address % size);
  if (!Number.isInteger(hostIndex) || hostIndex < 0 || hostIndex + 2 >= size) {
    throw new RangeError(`host ${hostIndex} does not fit in ${cidr}`);
  }
  return { address: ipv4ToString(network + hostIndex + 1), prefixLength: subnet.prefixLength };
}

export interface FirewallRulePlan {
  sequence: number;
  action: 'permit' | 'deny';
  protocol: 'tcp' | 'udp' | 'icmp' | 'ipv4';
  destinationPort?: number;
  sourcePort?: number;
  source?: string;
  tcpOption?: 'established' | 'syn';
  /** Why the rule exists (not sent to OVHcloud, which has no such field). */
  purpose: string;
}

/** The last rule: OVHcloud's IP firewall lets through whatever no rule matches, so deny it here. */
export const DENY_ALL_SEQUENCE = 19;

/**
 * The public firewall: only the S3 port is open to everyone. The OVHcloud firewall is stateless, so
 * replies to the host's own connections (TCP established, DNS and NTP answers) are admitted by rule;
 * SSH only from the configured admin sources; the admin API never (it listens on the vRack, which this
 * firewall does not filter).
 */
export function firewallRules(config: RegionConfig): FirewallRulePlan[] {
  const rules: FirewallRulePlan[] = [
    {
      sequence: 0,
      action: 'permit',
      protocol: 'tcp',
      tcpOption: 'established',
      purpose: 'replies to outbound TCP',
    },
    {
      sequence: 1,
      action: 'permit',
      protocol: 'tcp',
      destinationPort: config.s3Port,
      purpose: 'S3 endpoint (HTTPS)',
    },
    { sequence: 2, action: 'permit', protocol: 'udp', sourcePort: 53, purpose: 'DNS answers' },
    { sequence: 3, action: 'permit', protocol: 'udp', sourcePort: 123, purpose: 'NTP answers' },
    { sequence: 4, action: 'permit', protocol: 'icmp', purpose: 'ICMP (path MTU discovery, monitoring)' },
  ];
  config.adminSourceCidrs.forEach((source, index) => {
    rules.push({
      sequence: 5 + index,
      action: 'permit',
      protocol: 'tcp',
      destinationPort: SSH_PORT,
      source: source.includes('/') ? source : `${source}/32`,
      purpose: 'SSH from an admin source',
    });
  });
  rules.push({ sequence: DENY_ALL_SEQUENCE, action: 'deny', protocol: 'ipv4', purpose: 'everything else' });
  return rules;
}

/**
 * First-boot user data (cloud-init): the SSH keys, the hostname, and the vRack address on the NIC that
 * does not carry the public default route (OVHcloud names NICs differently per server range).
 */
export function firstBootUserData(
  config: RegionConfig,
  host: HostConfig,
  address: { address: string; prefixLength: number },
): string {
  const fqdn = config.dns ? `${host.name}.${config.dns.subdomain}.${config.dns.zone}` : host.name;
  const network = `${address.address}/${address.prefixLength}`;
  const configureVrack = [
    'set -eu',
    "public=$(ip -o route show default | awk '{print $5; exit}')",
    'private=$(ls /sys/class/net | grep -v -e "^lo$" -e "^$public$" | head -n 1)',
    'mkdir -p /etc/systemd/network',
    `printf '[Match]\\nName=%s\\n\\n[Network]\\nAddress=${network}\\n' "$private" > /etc/systemd/network/60-vrack.network`,
    'systemctl enable --now systemd-networkd',
    'networkctl reload || systemctl restart systemd-networkd',
  ].join('\n');
  const hostFacts = stringify({
    region: config.name,
    host: host.name,
    datacenter: datacenterSite(host.datacenter),
    privateAddress: address.address,
    s3Port: config.s3Port,
    adminPort: config.adminPort,
  });
  const cloudConfig = {
    hostname: host.name,
    fqdn,
    ssh_authorized_keys: config.sshPublicKeys,
    ssh_pwauth: false,
    disable_root: false,
    write_files: [
      {
        path: '/usr/local/sbin/coffre-vrack',
        permissions: '0755',
        content: `#!/bin/sh\n${configureVrack}\n`,
      },
      { path: '/etc/coffre/host.yaml', permissions: '0644', content: hostFacts },
    ],
    runcmd: [['/usr/local/sbin/coffre-vrack']],
  };
  return `#cloud-config\n${stringify(cloudConfig)}`;
}

export interface DiskGroup {
  diskGroupId: number;
  diskType: string;
  numberOfDisks: number;
  diskSize: { unit: string; value: number };
}

export interface Drive {
  /** `<disk group>-<index in group>`: stable across reinstalls, unlike /dev names. */
  id: string;
  diskGroupId: number;
  type: string;
  sizeBytes: number;
  role: 'system' | 'data';
}

const bytesPerUnit: Record<string, number> = {
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KIB: 2 ** 10,
  MIB: 2 ** 20,
  GIB: 2 ** 30,
  TIB: 2 ** 40,
};

/** Drive sizes as OVHcloud reports them (`{ unit: 'GB', value: 960 }`), in bytes. */
export function sizeInBytes(size: { unit: string; value: number }): number {
  const factor = bytesPerUnit[size.unit.toUpperCase()];
  if (factor === undefined) throw new RangeError(`unknown size unit ${size.unit}`);
  return Math.round(size.value * factor);
}

/**
 * The host's drives from its hardware specification: the first 2 of the system disk group (the one
 * given, or the lowest id when 0) hold the system; every other drive is a data drive for the agent.
 */
export function hostDrives(diskGroups: readonly DiskGroup[], systemDiskGroupId: number): Drive[] {
  const ordered = [...diskGroups].sort((left, right) => left.diskGroupId - right.diskGroupId);
  const systemGroup = systemDiskGroupId === 0 ? ordered[0]?.diskGroupId : systemDiskGroupId;
  const drives: Drive[] = [];
  for (const group of ordered) {
    for (let index = 0; index < group.numberOfDisks; index += 1) {
      const isSystem = group.diskGroupId === systemGroup && index < SYSTEM_DRIVE_COUNT;
      drives.push({
        id: `${group.diskGroupId}-${index}`,
        diskGroupId: group.diskGroupId,
        type: group.diskType,
        sizeBytes: sizeInBytes(group.diskSize),
        role: isSystem ? 'system' : 'data',
      });
    }
  }
  return drives;
}
