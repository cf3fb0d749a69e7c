import * as ovh from '@ovhcloud/pulumi-ovh';
import test from 'ava';
import { parse } from 'yaml';
import {
  DENY_ALL_SEQUENCE,
  firewallRules,
  firstBootUserData,
  hostDrives,
  orderPlan,
  privateAddress,
  sizeInBytes,
  systemStorageLayout,
} from '../../stacks/host-layout.ts';
import { OVH_RESOURCE_TYPES } from '../../stacks/ovh-resource-types.ts';
import { threeDatacenterRegion } from './fixtures.ts';

test('order: the server is ordered in the host site with no OS, its options at the same terms', (t) => {
  const order = orderPlan(threeDatacenterRegion(), { name: 'gra-1', datacenter: 'gra3' });
  t.deepEqual(order.plans, [
    {
      planCode: '24sys01-stor',
      duration: 'P1M',
      pricingMode: 'default',
      quantity: 1,
      configurations: [
        { label: 'dedicated_datacenter', value: 'gra' },
        { label: 'dedicated_os', value: 'none_64.en' },
        { label: 'region', value: 'europe' },
      ],
    },
  ]);
  t.deepEqual(order.options, [
    { planCode: 'ram-64g-ecc-2400', duration: 'P1M', pricingMode: 'default', quantity: 1 },
  ]);
});

test('storage: the system is RAID 1 over 2 drives of the system disk group; no other drive is touched', (t) => {
  const [layout, ...others] = systemStorageLayout(threeDatacenterRegion({ systemDiskGroupId: 2 }));
  t.is(others.length, 0);
  t.is(layout.diskGroupId, 2);
  t.is(layout.partitioning.disks, 2);
  t.true(layout.partitioning.layouts.every((partition) => partition.raidLevel === 1));
  t.deepEqual(
    layout.partitioning.layouts.map((partition) => partition.mountPoint),
    ['/boot', '/'],
  );
});

const addresses: [string, number, string][] = [
  ['10.42.0.0/24', 0, '10.42.0.1'],
  ['10.42.0.0/24', 2, '10.42.0.3'],
  ['10.42.0.77/24', 0, '10.42.0.1'],
  ['172.16.4.0/22', 255, '172.16.5.0'],
];
for (const [cidr, index, address] of addresses) {
  test(`private address: host ${index} of ${cidr} is ${address}`, (t) => {
    t.is(privateAddress(cidr, index).address, address);
  });
}

test('private address: a host beyond the subnet is a range error', (t) => {
  t.throws(() => privateAddress('10.42.0.0/30', 2), { instanceOf: RangeError });
  t.throws(() => privateAddress('10.42.0.0', 0), { instanceOf: RangeError });
});

test('firewall: S3 open to all, SSH from admin sources only, replies admitted, then deny everything', (t) => {
  const rules = firewallRules(
    threeDatacenterRegion({ s3Port: 8443, adminSourceCidrs: ['203.0.113.10', '198.51.100.0/28'] }),
  );
  t.deepEqual(
    rules.map((rule) => [
      rule.sequence,
      rule.action,
      rule.protocol,
      rule.destinationPort ?? rule.sourcePort ?? null,
      rule.source ?? 'any',
    ]),
    [
      [0, 'permit', 'tcp', null, 'any'],
      [1, 'permit', 'tcp', 8443, 'any'],
      [2, 'permit', 'udp', 53, 'any'],
      [3, 'permit', 'udp', 123, 'any'],
      [4, 'permit', 'icmp', null, 'any'],
      [5, 'permit', 'tcp', 22, '203.0.113.10/32'],
      [6, 'permit', 'tcp', 22, '198.51.100.0/28'],
      [DENY_ALL_SEQUENCE, 'deny', 'ipv4', null, 'any'],
    ],
  );
  t.is(rules[0].tcpOption, 'established');
  t.false(rules.some((rule) => rule.destinationPort === 9443));
});

test('first boot: cloud-config with every SSH key, the hostname and the vRack address', (t) => {
  const region = threeDatacenterRegion({
    sshPublicKeys: ['ssh-ed25519 AAAA admin', 'ssh-ed25519 BBBB operator'],
    dns: { zone: 'coffre.example.fr', subdomain: 's3.fr-par' },
  });
  const userData = firstBootUserData(region, region.hosts[1], privateAddress(region.privateNetworkCidr, 1));
  t.true(userData.startsWith('#cloud-config\n'));
  const cloudConfig = parse(userData) as {
    hostname: string;
    fqdn: string;
    ssh_authorized_keys: string[];
    write_files: { path: string; content: string }[];
    runcmd: string[][];
  };
  t.is(cloudConfig.hostname, 'gra-1');
  t.is(cloudConfig.fqdn, 'gra-1.s3.fr-par.coffre.example.fr');
  t.deepEqual(cloudConfig.ssh_authorized_keys, ['ssh-ed25519 AAAA admin', 'ssh-ed25519 BBBB operator']);
  const script = cloudConfig.write_files.find((file) => file.path === '/usr/local/sbin/coffre-vrack');
  t.regex(script?.content ?? '', /Address=10\.42\.0\.2\/24/);
  const facts = parse(
    cloudConfig.write_files.find((file) => file.path === '/etc/coffre/host.yaml')?.content ?? '',
  );
  t.deepEqual(facts, {
    region: 'fr-par',
    host: 'gra-1',
    datacenter: 'gra',
    privateAddress: '10.42.0.2',
    s3Port: 443,
    adminPort: 9443,
  });
  t.deepEqual(cloudConfig.runcmd, [['/usr/local/sbin/coffre-vrack']]);
});

const sizes: [{ unit: string; value: number }, number][] = [
  [{ unit: 'GB', value: 960 }, 960e9],
  [{ unit: 'TB', value: 14 }, 14e12],
  [{ unit: 'GiB', value: 1 }, 2 ** 30],
  [{ unit: 'mb', value: 2 }, 2e6],
];
for (const [size, bytes] of sizes) {
  test(`drive size: ${size.value} ${size.unit} is ${bytes} bytes`, (t) => {
    t.is(sizeInBytes(size), bytes);
  });
}

test('drives: with the automatic disk group, the first 2 drives of the lowest group are the system', (t) => {
  const drives = hostDrives(
    [
      { diskGroupId: 2, diskType: 'HDD', numberOfDisks: 2, diskSize: { unit: 'TB', value: 8 } },
      { diskGroupId: 1, diskType: 'SSD', numberOfDisks: 3, diskSize: { unit: 'GB', value: 480 } },
    ],
    0,
  );
  t.deepEqual(
    drives.map((drive) => `${drive.id}:${drive.type}:${drive.role}`),
    ['1-0:SSD:system', '1-1:SSD:system', '1-2:SSD:data', '2-0:HDD:data', '2-1:HDD:data'],
  );
});

test('drives: a unit OVHcloud does not use is a range error', (t) => {
  t.throws(() => sizeInBytes({ unit: 'PB', value: 1 }), { instanceOf: RangeError });
});

const tokens: [string, object, string][] = [
  ['dedicated server', ovh.dedicated.Server, OVH_RESOURCE_TYPES.dedicatedServer],
  ['vRack', ovh.vrack.Vrack, OVH_RESOURCE_TYPES.vrack],
  ['vRack server interface', ovh.vrack.DedicatedServerInterface, OVH_RESOURCE_TYPES.vrackServerInterface],
  ['vRack legacy server', ovh.vrack.DedicatedServer, OVH_RESOURCE_TYPES.vrackLegacyServer],
  ['IP firewall', ovh.ip.Firewall, OVH_RESOURCE_TYPES.ipFirewall],
  ['IP firewall rule', ovh.ip.FirewallRule, OVH_RESOURCE_TYPES.ipFirewallRule],
  ['DNS record', ovh.domain.ZoneRecord, OVH_RESOURCE_TYPES.dnsRecord],
];
for (const [label, resourceClass, token] of tokens) {
  test(`type tokens: the ${label} token is the one @ovhcloud/pulumi-ovh registers`, (t) => {
    t.is(Reflect.get(resourceClass, '__pulumiType'), token);
  });
}
