import test from 'ava';
import {
  firewallRuleViolations,
  frenchDatacenterViolations,
  hostFirewallViolations,
  osTemplateViolations,
  type Properties,
  regionSpreadViolations,
  serverDatacenters,
  vrackViolations,
} from '../../policies/rules.ts';

function orderedIn(datacenter: string, extra: Properties = {}): Properties {
  return {
    os: 'debian12_64',
    plans: [
      {
        planCode: '24sys01-stor',
        configurations: [
          { label: 'dedicated_datacenter', value: datacenter },
          { label: 'dedicated_os', value: 'none_64.en' },
        ],
      },
    ],
    ...extra,
  };
}

const servers: [string, Properties, number][] = [
  ['ordered in Gravelines', orderedIn('gra'), 0],
  ['ordered in Paris, reported in par1', orderedIn('par', { datacenter: 'par1' }), 0],
  ['imported, reported in sbg5', { os: 'debian12_64', datacenter: 'sbg5' }, 0],
  ['ordered in Frankfurt', orderedIn('fra'), 1],
  ['ordered in Beauharnois', orderedIn('bhs'), 1],
  ['ordered in Roubaix but reported in Limburg', orderedIn('rbx', { datacenter: 'lim3' }), 1],
  ['naming no datacenter', { os: 'debian12_64' }, 1],
];
for (const [scenario, props, count] of servers) {
  test(`french datacenters: a server ${scenario}: ${count === 0 ? 'compliant' : 'violation'}`, (t) => {
    const violations = frenchDatacenterViolations(props);
    t.is(violations.length, count);
    for (const violation of violations) t.regex(violation, /France/);
  });
}

test('french datacenters: the order and the reported datacenter are both read', (t) => {
  t.deepEqual(serverDatacenters(orderedIn('gra', { datacenter: 'gra3' })), ['gra', 'gra3']);
  t.deepEqual(serverDatacenters({ plans: 'garbage' }), []);
});

const templates: [unknown, boolean][] = [
  ['debian12_64', true],
  ['debian13_64', true],
  ['ubuntu2404-server_64', true],
  ['win2022-std_64', false],
  ['centos7_64', false],
  [undefined, false],
  ['', false],
];
for (const [template, approved] of templates) {
  test(`os templates: ${JSON.stringify(template)}: ${approved ? 'compliant' : 'violation'}`, (t) => {
    t.is(osTemplateViolations({ os: template }).length, approved ? 0 : 1);
  });
}

const regions: [string, string[][], string[], number][] = [
  ['3 hosts in 3 datacenters', [['par'], ['gra'], ['rbx']], ['gra', 'rbx', 'sbg', 'par'], 0],
  ['3 hosts in 2 datacenters, only 2 available', [['gra'], ['gra'], ['rbx']], ['gra', 'rbx'], 0],
  ['3 hosts in 2 datacenters, 3 available', [['gra'], ['gra'], ['rbx']], ['gra', 'rbx', 'sbg'], 1],
  ['2 hosts in 2 datacenters', [['gra'], ['rbx']], ['gra', 'rbx'], 1],
  ['4 hosts in 1 datacenter', [['gra'], ['gra1'], ['gra2'], ['gra']], ['gra', 'rbx'], 1],
  [
    'a server whose order and report agree counts once',
    [['gra', 'gra3'], ['rbx', 'rbx8'], ['sbg']],
    ['gra', 'rbx', 'sbg'],
    0,
  ],
];
for (const [scenario, datacenters, available, count] of regions) {
  test(`region spread: ${scenario}: ${count === 0 ? 'compliant' : 'violation'}`, (t) => {
    t.is(regionSpreadViolations(datacenters, available).length, count);
  });
}

const rules: [string, Properties, number][] = [
  ['S3 from anywhere', { sequence: 1, action: 'permit', protocol: 'tcp', destinationPort: 443 }, 0],
  [
    'TCP replies from anywhere',
    { sequence: 0, action: 'permit', protocol: 'tcp', tcpOption: 'established' },
    0,
  ],
  [
    'SSH from a bastion',
    { sequence: 5, action: 'permit', protocol: 'tcp', destinationPort: 22, source: '203.0.113.10/32' },
    0,
  ],
  ['DNS answers', { sequence: 2, action: 'permit', protocol: 'udp', sourcePort: 53 }, 0],
  ['ICMP from anywhere', { sequence: 4, action: 'permit', protocol: 'icmp' }, 0],
  ['deny all', { sequence: 19, action: 'deny', protocol: 'ipv4' }, 0],
  ['SSH from anywhere', { sequence: 5, action: 'permit', protocol: 'tcp', destinationPort: 22 }, 1],
  [
    'SSH from 0.0.0.0/0',
    { sequence: 5, action: 'permit', protocol: 'tcp', destinationPort: 22, source: '0.0.0.0/0' },
    1,
  ],
  [
    'the admin API from anywhere',
    { sequence: 6, action: 'permit', protocol: 'tcp', destinationPort: 9443 },
    1,
  ],
  ['every TCP port from anywhere', { sequence: 7, action: 'permit', protocol: 'tcp' }, 2],
  ['all traffic from anywhere', { sequence: 8, action: 'permit', protocol: 'ipv4' }, 2],
  [
    'new SSH connections (syn) from anywhere',
    { sequence: 9, action: 'permit', protocol: 'tcp', tcpOption: 'syn', destinationPort: 22 },
    1,
  ],
];
for (const [scenario, rule, count] of rules) {
  test(`firewall rules: ${scenario}: ${count === 0 ? 'compliant' : `${count} violation(s)`}`, (t) => {
    t.is(firewallRuleViolations(rule).length, count);
  });
}

test('firewall rules: the admin ports come from the policy configuration', (t) => {
  const rule = { sequence: 3, action: 'permit', protocol: 'tcp', destinationPort: 2222 };
  t.is(firewallRuleViolations(rule).length, 0);
  t.deepEqual(firewallRuleViolations(rule, [2222]), [
    'rule 3 opens port 2222 (SSH or admin) to the internet',
  ]);
});

test('host firewall: enabled with a final deny-all: compliant', (t) => {
  t.deepEqual(
    hostFirewallViolations([{ enabled: true }], [{ sequence: 19, action: 'deny', protocol: 'ipv4' }]),
    [],
  );
});

test('host firewall: no firewall, a disabled one, or no deny-all: violation', (t) => {
  const denyAll = [{ sequence: 19, action: 'deny', protocol: 'ipv4' }];
  t.is(hostFirewallViolations([], denyAll).length, 1);
  t.is(hostFirewallViolations([{ enabled: false }], denyAll).length, 1);
  t.is(
    hostFirewallViolations([{ enabled: true }], [{ sequence: 1, action: 'permit', protocol: 'tcp' }]).length,
    1,
  );
  t.is(
    hostFirewallViolations(
      [{ enabled: true }],
      [{ sequence: 19, action: 'deny', protocol: 'ipv4', source: '10.0.0.0/8' }],
    ).length,
    1,
  );
});

const vracks: [number, number, number][] = [
  [3, 3, 0],
  [0, 0, 0],
  [3, 0, 1],
  [3, 2, 1],
];
for (const [serverCount, attachmentCount, count] of vracks) {
  test(`vrack: ${serverCount} servers, ${attachmentCount} vRack attachments: ${count === 0 ? 'compliant' : 'violation'}`, (t) => {
    t.is(vrackViolations(serverCount, attachmentCount).length, count);
  });
}
