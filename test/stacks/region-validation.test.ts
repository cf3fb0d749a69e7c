import test from 'ava';
import {
  datacenterSite,
  isFrenchDatacenter,
  isInternetWide,
  placementProblems,
  type RegionConfig,
  RegionConfigError,
  requiredDatacenterSpread,
} from '../../stacks/region-config.ts';
import {
  assertValidRegionConfig,
  regionConfigFromObject,
  validateRegionConfig,
} from '../../stacks/region-validation.ts';
import { threeDatacenterRegion } from './fixtures.ts';

const sites: [string, string, boolean][] = [
  ['gra', 'gra', true],
  ['gra3', 'gra', true],
  ['RBX8', 'rbx', true],
  ['sbg5', 'sbg', true],
  ['par', 'par', true],
  ['par-1', 'par', true],
  ['bhs', 'bhs', false],
  ['fra1', 'fra', false],
  ['waw1', 'waw', false],
  ['lon1', 'lon', false],
  ['', '', false],
];
for (const [datacenter, site, french] of sites) {
  test(`datacenter ${JSON.stringify(datacenter)}: site ${JSON.stringify(site)}, ${french ? 'in France' : 'not in France'}`, (t) => {
    t.is(datacenterSite(datacenter), site);
    t.is(isFrenchDatacenter(datacenter), french);
  });
}

const spreads: [string[], number][] = [
  [['gra', 'rbx', 'sbg', 'par'], 3],
  [['gra', 'rbx', 'sbg'], 3],
  [['gra', 'rbx'], 2],
  [['gra'], 2],
  [['gra', 'rbx', 'fra', 'waw'], 2],
  [[], 2],
];
for (const [available, required] of spreads) {
  test(`datacenter spread: offer available in [${available.join(', ')}] requires ${required} datacenters`, (t) => {
    t.is(requiredDatacenterSpread(available), required);
  });
}

const placements: [string, string[], string[], string[]][] = [
  ['3 hosts in 3 French datacenters', ['par', 'gra', 'rbx'], ['gra', 'rbx', 'sbg', 'par'], []],
  [
    '6 hosts in 3 French datacenters',
    ['par', 'par', 'gra', 'gra', 'rbx3', 'rbx8'],
    ['gra', 'rbx', 'par'],
    [],
  ],
  ['3 hosts in 2 datacenters when only 2 can be ordered', ['gra', 'gra', 'rbx'], ['gra', 'rbx'], []],
  [
    '3 hosts in 2 datacenters when 3 can be ordered',
    ['gra', 'gra', 'rbx'],
    ['gra', 'rbx', 'sbg'],
    ['TooFewDatacenters'],
  ],
  ['3 hosts in 1 datacenter', ['gra', 'gra', 'gra'], ['gra'], ['TooFewDatacenters']],
  ['2 hosts', ['gra', 'rbx'], ['gra', 'rbx'], ['TooFewHosts']],
  ['no host', [], ['gra', 'rbx'], ['TooFewHosts', 'TooFewDatacenters']],
  ['a host in Frankfurt', ['gra', 'rbx', 'fra1'], ['gra', 'rbx'], ['NotInFrance']],
  ['hosts in Canada and Poland', ['bhs', 'waw', 'gra'], ['gra', 'rbx'], ['NotInFrance', 'TooFewDatacenters']],
];
for (const [scenario, datacenters, available, codes] of placements) {
  test(`placement: ${scenario}: ${codes.length === 0 ? 'accepted' : `refused (${codes.join(', ')})`}`, (t) => {
    t.deepEqual(
      placementProblems(datacenters, available).map((problem) => problem.code),
      codes,
    );
  });
}

const sources: [string | undefined, boolean][] = [
  [undefined, true],
  ['', true],
  ['0.0.0.0/0', true],
  ['0.0.0.0/4', true],
  ['not-an-address', true],
  ['203.0.113.10', false],
  ['203.0.113.0/24', false],
  ['10.0.0.0/8', false],
];
for (const [source, wide] of sources) {
  test(`firewall source ${JSON.stringify(source)}: ${wide ? 'the whole internet' : 'a bounded range'}`, (t) => {
    t.is(isInternetWide(source), wide);
  });
}

const configs: [string, Partial<RegionConfig>, string[]][] = [
  ['the 3-datacenter example', {}, []],
  ['an unapproved OS template', { osTemplate: 'win2022-std_64' }, ['UnapprovedOsTemplate']],
  ['SSH open to the internet', { adminSourceCidrs: ['0.0.0.0/0'] }, ['AdminOpenToInternet']],
  ['S3 served on the SSH port', { s3Port: 22 }, ['AdminOpenToInternet']],
  ['S3 served on the admin port', { s3Port: 9443 }, ['AdminOpenToInternet']],
  ['a port out of range', { adminPort: 70000 }, ['InvalidPort']],
  ['no SSH key', { sshPublicKeys: [] }, ['MissingSshKey']],
  [
    'no server plan',
    { server: { planCode: '', duration: 'P1M', pricingMode: 'default', options: [] } },
    ['MissingOffer'],
  ],
  ['a private network too small', { privateNetworkCidr: '10.42.0.0/31' }, ['InvalidCidr']],
  ['a region name with a dot', { name: 'fr.par' }, ['InvalidName']],
  [
    'two hosts with one name',
    {
      hosts: [
        { name: 'h-1', datacenter: 'gra' },
        { name: 'h-1', datacenter: 'rbx' },
        { name: 'h-3', datacenter: 'sbg' },
      ],
    },
    ['DuplicateHostName'],
  ],
  [
    'more admin sources than firewall rules',
    { adminSourceCidrs: Array(15).fill('203.0.113.1') },
    ['InvalidCidr'],
  ],
];
for (const [scenario, overrides, codes] of configs) {
  test(`region config: ${scenario}: ${codes.length === 0 ? 'valid' : codes.join(', ')}`, (t) => {
    t.deepEqual(
      validateRegionConfig(threeDatacenterRegion(overrides)).map((problem) => problem.code),
      codes,
    );
  });
}

test('region config: assertValidRegionConfig throws one error that lists every broken rule', (t) => {
  const error = t.throws(
    () => assertValidRegionConfig(threeDatacenterRegion({ osTemplate: 'centos7_64', sshPublicKeys: [] })),
    { instanceOf: RegionConfigError },
  );
  t.is(error?.code, 'InvalidRegionConfig');
  t.deepEqual(
    error?.problems.map((problem) => problem.code),
    ['UnapprovedOsTemplate', 'MissingSshKey'],
  );
  t.regex(error?.message ?? '', /^region fr-par: OS template centos7_64 is not approved; /);
});

test('region config: an object with only the essentials gets the documented defaults', (t) => {
  const config = regionConfigFromObject({
    name: 'fr-par',
    server: { planCode: '24sys01-stor' },
    hosts: [{ name: 'par-1', datacenter: 'par' }],
    sshPublicKeys: ['ssh-ed25519 AAAA'],
  });
  t.like(config, {
    ovhSubsidiary: 'FR',
    osTemplate: 'debian12_64',
    systemDiskGroupId: 0,
    server: { planCode: '24sys01-stor', duration: 'P1M', pricingMode: 'default', options: [] },
    availableDatacenters: ['gra', 'rbx', 'sbg', 'par'],
    privateNetworkCidr: '10.42.0.0/24',
    s3Port: 443,
    adminPort: 9443,
    adminSourceCidrs: [],
  });
  t.is(config.vrackServiceName, undefined);
  t.is(config.dns, undefined);
});

test('region config: a field of the wrong type is a typed error naming the field', (t) => {
  const error = t.throws(() => regionConfigFromObject({ name: 'fr-par', hosts: 'par-1' }), {
    instanceOf: RegionConfigError,
  });
  t.deepEqual(
    error?.problems.map((problem) => problem.code),
    ['InvalidType'],
  );
  t.regex(error?.message ?? '', /hosts has the wrong type/);
});
