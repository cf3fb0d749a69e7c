import test from 'ava';
import {
  interleaveByDatacenter,
  type PlacedHost,
  ReplicaSetError,
  replicaSetForBucket,
  replicaSets,
} from '../../stacks/replica-sets.ts';

function hostsIn(...datacenters: string[]): PlacedHost[] {
  const counts = new Map<string, number>();
  return datacenters.map((datacenter) => {
    const count = (counts.get(datacenter) ?? 0) + 1;
    counts.set(datacenter, count);
    return { name: `${datacenter}-${count}`, datacenter };
  });
}

const layouts: [string, PlacedHost[], string[][]][] = [
  ['3 hosts in 3 datacenters', hostsIn('par', 'gra', 'rbx'), [['gra-1', 'par-1', 'rbx-1']]],
  [
    '4 hosts in 3 datacenters',
    hostsIn('par', 'par', 'gra', 'rbx'),
    [
      ['gra-1', 'par-1', 'rbx-1'],
      ['gra-1', 'par-2', 'rbx-1'],
    ],
  ],
  [
    '6 hosts in 3 datacenters',
    hostsIn('gra', 'gra', 'rbx', 'rbx', 'sbg', 'sbg'),
    [
      ['gra-1', 'rbx-1', 'sbg-1'],
      ['gra-2', 'rbx-1', 'sbg-1'],
      ['gra-2', 'rbx-2', 'sbg-1'],
      ['gra-2', 'rbx-2', 'sbg-2'],
      ['gra-1', 'rbx-2', 'sbg-2'],
      ['gra-1', 'rbx-1', 'sbg-2'],
    ],
  ],
  [
    '4 hosts in 2 datacenters',
    hostsIn('gra', 'gra', 'rbx', 'rbx'),
    [
      ['gra-1', 'gra-2', 'rbx-1'],
      ['gra-2', 'rbx-1', 'rbx-2'],
      ['gra-1', 'gra-2', 'rbx-2'],
      ['gra-1', 'rbx-1', 'rbx-2'],
    ],
  ],
  ['3 hosts in 1 datacenter', hostsIn('gra', 'gra', 'gra'), [['gra-1', 'gra-2', 'gra-3']]],
];
for (const [scenario, hosts, expected] of layouts) {
  test(`replica sets: ${scenario}: ${expected.length} sets of 3 distinct hosts, distinct datacenters first`, (t) => {
    const sets = replicaSets(hosts);
    t.deepEqual(
      sets.map((set) => set.hosts),
      expected,
    );
    const siteCount = new Set(hosts.map((host) => host.datacenter)).size;
    for (const set of sets) {
      t.is(new Set(set.hosts).size, 3);
      t.is(set.datacenters.length, Math.min(3, siteCount));
      t.is(set.id, set.hosts.join('+'));
    }
  });
}

test('replica sets: every host belongs to at least one set', (t) => {
  const hosts = hostsIn('gra', 'gra', 'gra', 'rbx', 'rbx', 'sbg', 'par');
  const members = new Set(replicaSets(hosts).flatMap((set) => set.hosts));
  t.deepEqual([...members].sort(), hosts.map((host) => host.name).sort());
});

test('replica sets: the order hosts are listed in does not change the sets', (t) => {
  const hosts = hostsIn('gra', 'gra', 'rbx', 'rbx', 'sbg');
  t.deepEqual(replicaSets([...hosts].reverse()), replicaSets(hosts));
});

test('replica sets: fewer hosts than replicas is a typed error', (t) => {
  const error = t.throws(() => replicaSets(hostsIn('gra', 'rbx')), { instanceOf: ReplicaSetError });
  t.is(error?.code, 'TooFewHosts');
});

test('interleave: neighbours alternate datacenters, the most populated first', (t) => {
  t.deepEqual(
    interleaveByDatacenter(hostsIn('rbx', 'gra', 'gra', 'gra', 'sbg')).map((host) => host.name),
    ['gra-1', 'rbx-1', 'sbg-1', 'gra-2', 'gra-3'],
  );
});

test('bucket placement: a bucket always lands on the same set, and buckets spread over all sets', (t) => {
  const sets = replicaSets(hostsIn('gra', 'gra', 'rbx', 'rbx', 'sbg', 'sbg'));
  const chosen = new Map<string, number>();
  for (let index = 0; index < 600; index += 1) {
    const set = replicaSetForBucket(`bucket-${index}`, sets);
    t.is(replicaSetForBucket(`bucket-${index}`, [...sets].reverse()).id, set.id);
    chosen.set(set.id, (chosen.get(set.id) ?? 0) + 1);
  }
  t.is(chosen.size, sets.length);
});

test('bucket placement: adding a set moves only the buckets that now choose it', (t) => {
  const before = replicaSets(hostsIn('gra', 'rbx', 'sbg', 'gra', 'rbx'));
  const after = replicaSets(hostsIn('gra', 'rbx', 'sbg', 'gra', 'rbx', 'sbg'));
  const added = new Set(after.filter((set) => !before.some((old) => old.id === set.id)).map((set) => set.id));
  const kept = after.filter((set) => !added.has(set.id));
  for (let index = 0; index < 300; index += 1) {
    const bucket = `bucket-${index}`;
    const placed = replicaSetForBucket(bucket, after);
    if (!added.has(placed.id)) t.is(placed.id, replicaSetForBucket(bucket, kept).id);
  }
});

test('bucket placement: no set at all is a typed error', (t) => {
  t.throws(() => replicaSetForBucket('backups', []), { instanceOf: ReplicaSetError });
});
