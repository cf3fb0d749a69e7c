import test from 'ava';
import { OVH_RESOURCE_TYPES } from '../../stacks/ovh-resource-types.ts';
import { RegionConfigError } from '../../stacks/region-config.ts';
import { threeDatacenterRegion } from './fixtures.ts';
import { installOvhMocks, resolved } from './pulumi-mocks.ts';

// The mocks must be in place before the program's modules create resources.
const recorded = installOvhMocks();
const { regionProgram } = await import('../../stacks/program.ts');

function ofType(type: string, region: string) {
  return recorded.filter((resource) => resource.type === type && resource.name.startsWith(region));
}

test('region program: a 3-datacenter region orders 3 servers, one per datacenter, and a vRack', async (t) => {
  const outputs = regionProgram(threeDatacenterRegion({ name: 'fr-three' }));
  const hosts = await resolved(outputs.hosts);
  t.is(hosts.length, 3);
  const servers = ofType(OVH_RESOURCE_TYPES.dedicatedServer, 'fr-three');
  t.is(servers.length, 3);
  const sites = servers.map((server) => {
    const plans = server.inputs.plans as { configurations: { label: string; value: string }[] }[];
    return plans[0].configurations.find((item) => item.label === 'dedicated_datacenter')?.value;
  });
  t.deepEqual(sites, ['par', 'gra', 'rbx']);
  t.is(ofType(OVH_RESOURCE_TYPES.vrack, 'fr-three').length, 1);
  t.is(ofType(OVH_RESOURCE_TYPES.vrackServerInterface, 'fr-three').length, 3);
});

test('region program: each server installs an approved OS with the system on RAID 1 over 2 drives only', async (t) => {
  await resolved(regionProgram(threeDatacenterRegion({ name: 'fr-raid' })).hosts);
  for (const server of ofType(OVH_RESOURCE_TYPES.dedicatedServer, 'fr-raid')) {
    t.is(server.inputs.os, 'debian12_64');
    t.is(server.inputs.ovhSubsidiary, 'FR');
    const [storage] = server.inputs.storages as {
      diskGroupId: number;
      partitioning: { disks: number; layouts: { mountPoint: string; raidLevel: number }[] };
    }[];
    t.is(storage.diskGroupId, 1);
    t.is(storage.partitioning.disks, 2);
    t.deepEqual(
      storage.partitioning.layouts.map((layout) => [layout.mountPoint, layout.raidLevel]),
      [
        ['/boot', 1],
        ['/', 1],
      ],
    );
    const customizations = server.inputs.customizations as { sshKey: string; configDriveUserData: string };
    t.is(customizations.sshKey, 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAdmin admin@coffre');
    t.regex(customizations.configDriveUserData, /^#cloud-config\n/);
  }
});

test('region program: servers join the vRack through their enabled vRack interface', async (t) => {
  await resolved(regionProgram(threeDatacenterRegion({ name: 'fr-vrack' })).hosts);
  const attachments = ofType(OVH_RESOURCE_TYPES.vrackServerInterface, 'fr-vrack');
  t.is(attachments.length, 3);
  for (const attachment of attachments) t.is(attachment.inputs.serviceName, 'pn-4242');
  for (const attachment of attachments) t.regex(String(attachment.inputs.interfaceId), /^vni-ns\d+/);
});

test('region program: an existing vRack is used as it is, and none is ordered', async (t) => {
  const outputs = regionProgram(threeDatacenterRegion({ name: 'fr-existing', vrackServiceName: 'pn-777' }));
  t.is(await resolved(outputs.vrackServiceName), 'pn-777');
  t.is(ofType(OVH_RESOURCE_TYPES.vrack, 'fr-existing').length, 0);
  const attachments = ofType(OVH_RESOURCE_TYPES.vrackServerInterface, 'fr-existing');
  t.deepEqual(
    attachments.map((attachment) => attachment.inputs.serviceName),
    ['pn-777', 'pn-777', 'pn-777'],
  );
});

test('region program: the firewall of each host opens only S3 to everyone and ends with deny all', async (t) => {
  await resolved(regionProgram(threeDatacenterRegion({ name: 'fr-firewall' })).hosts);
  t.is(ofType(OVH_RESOURCE_TYPES.ipFirewall, 'fr-firewall').length, 3);
  const rules = ofType(OVH_RESOURCE_TYPES.ipFirewallRule, 'fr-firewall-par-1');
  const open = rules.filter(
    (rule) =>
      rule.inputs.action === 'permit' && rule.inputs.source === undefined && rule.inputs.protocol === 'tcp',
  );
  t.deepEqual(
    open.map((rule) => [rule.inputs.destinationPort, rule.inputs.tcpOption]),
    [
      [undefined, 'established'],
      [443, undefined],
    ],
  );
  const ssh = rules.filter((rule) => rule.inputs.destinationPort === 22);
  t.deepEqual(
    ssh.map((rule) => rule.inputs.source),
    ['203.0.113.10/32'],
  );
  const last = rules.find((rule) => rule.inputs.sequence === 19);
  t.deepEqual([last?.inputs.action, last?.inputs.protocol], ['deny', 'ipv4']);
  for (const rule of rules) t.is(rule.inputs.ip, `${rule.inputs.ipOnFirewall}/32`);
});

test('region program: outputs list hosts with addresses and drives, the S3 endpoint and replica sets', async (t) => {
  const outputs = regionProgram(threeDatacenterRegion({ name: 'fr-outputs' }));
  const hosts = await resolved(outputs.hosts);
  t.deepEqual(
    hosts.map((host) => [host.name, host.datacenter, host.privateAddress]),
    [
      ['par-1', 'par', '10.42.0.1'],
      ['gra-1', 'gra', '10.42.0.2'],
      ['rbx-1', 'rbx', '10.42.0.3'],
    ],
  );
  for (const host of hosts) t.regex(host.publicAddress, /^51\.68\.0\.\d+$/);
  t.deepEqual(
    hosts[0].drives.map((drive) => [drive.id, drive.role, drive.sizeBytes]),
    [
      ['1-0', 'system', 960e9],
      ['1-1', 'system', 960e9],
      ['2-0', 'data', 14e12],
      ['2-1', 'data', 14e12],
      ['2-2', 'data', 14e12],
      ['2-3', 'data', 14e12],
    ],
  );
  t.is(await resolved(outputs.s3Endpoint), `https://${hosts[0].publicAddress}`);
  const sets = await resolved(outputs.replicaSets);
  t.deepEqual(sets, [
    { id: 'gra-1+par-1+rbx-1', hosts: ['gra-1', 'par-1', 'rbx-1'], datacenters: ['gra', 'par', 'rbx'] },
  ]);
  t.is(await resolved(outputs.region), 'fr-outputs');
});

test('region program: with a DNS zone, one A record per host names the S3 endpoint', async (t) => {
  const outputs = regionProgram(
    threeDatacenterRegion({
      name: 'fr-dns',
      s3Port: 8443,
      dns: { zone: 'coffre.example.fr', subdomain: 's3.fr-dns' },
    }),
  );
  t.is(await resolved(outputs.s3Endpoint), 'https://s3.fr-dns.coffre.example.fr:8443');
  const records = ofType(OVH_RESOURCE_TYPES.dnsRecord, 'fr-dns');
  t.is(records.length, 3);
  for (const record of records) {
    t.like(record.inputs, { zone: 'coffre.example.fr', subdomain: 's3.fr-dns', fieldtype: 'A' });
    t.regex(String(record.inputs.target), /^51\.68\.0\.\d+$/);
  }
});

test('region program: a region with a host outside France is refused before any resource exists', (t) => {
  const before = recorded.length;
  const error = t.throws(
    () =>
      regionProgram(
        threeDatacenterRegion({
          name: 'fr-foreign',
          hosts: [
            { name: 'gra-1', datacenter: 'gra' },
            { name: 'rbx-1', datacenter: 'rbx' },
            { name: 'fra-1', datacenter: 'fra1' },
          ],
        }),
      ),
    { instanceOf: RegionConfigError },
  );
  t.deepEqual(
    error?.problems.map((problem) => problem.code),
    ['NotInFrance', 'TooFewDatacenters'],
  );
  t.is(recorded.length, before);
});

test('region program: a region of 2 hosts is refused before any resource exists', (t) => {
  const before = recorded.length;
  const error = t.throws(
    () =>
      regionProgram(
        threeDatacenterRegion({
          name: 'fr-small',
          hosts: [
            { name: 'gra-1', datacenter: 'gra' },
            { name: 'rbx-1', datacenter: 'rbx' },
          ],
        }),
      ),
    { instanceOf: RegionConfigError },
  );
  t.deepEqual(
    error?.problems.map((problem) => problem.code),
    ['TooFewHosts', 'TooFewDatacenters'],
  );
  t.is(recorded.length, before);
});
