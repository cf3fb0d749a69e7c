// Replica sets: the groups of 3 hosts that hold a bucket's versions. "Each object version is stored on
// 3 hosts, in distinct datacenters where the region has them" (shared/ARCHITECTURE.md). Pure and
// deterministic, so the stack's output, the operator and the agents compute the same sets.
import { createHash } from 'node:crypto';
import { datacenterSite, REPLICAS_PER_BUCKET } from './region-config.ts';

export interface PlacedHost {
  name: string;
  datacenter: string;
}

export interface ReplicaSet {
  /** The member names sorted and joined with `+`: the same members always give the same id. */
  id: string;
  /** Member host names, sorted. */
  hosts: string[];
  /** The distinct datacenter sites of the members, sorted. */
  datacenters: string[];
}

export class ReplicaSetError extends Error {
  readonly code = 'TooFewHosts';
  constructor(message: string) {
    super(message);
    this.name = 'ReplicaSetError';
  }
}

/**
 * Orders hosts so that neighbours sit in different datacenters as far as possible: sites with the
 * most hosts first, one host of each site in turn.
 */
export function interleaveByDatacenter(hosts: readonly PlacedHost[]): PlacedHost[] {
  const bySite = new Map<string, PlacedHost[]>();
  for (const host of [...hosts].sort((left, right) => left.name.localeCompare(right.name))) {
    const site = datacenterSite(host.datacenter);
    bySite.set(site, [...(bySite.get(site) ?? []), host]);
  }
  const sites = [...bySite.entries()].sort(
    ([leftSite, left], [rightSite, right]) => right.length - left.length || leftSite.localeCompare(rightSite),
  );
  const ring: PlacedHost[] = [];
  for (let round = 0; ring.length < hosts.length; round += 1) {
    for (const [, siteHosts] of sites) {
      if (round < siteHosts.length) ring.push(siteHosts[round]);
    }
  }
  return ring;
}

function replicaSetOf(members: readonly PlacedHost[]): ReplicaSet {
  const hosts = members.map((member) => member.name).sort();
  const datacenters = [...new Set(members.map((member) => datacenterSite(member.datacenter)))].sort();
  return { id: hosts.join('+'), hosts, datacenters };
}

/**
 * One replica set led by each host: walking the interleaved ring from the leader, it takes hosts of
 * datacenters not yet in the set first, then any other host. Identical sets are kept once.
 */
export function replicaSets(
  hosts: readonly PlacedHost[],
  replicas: number = REPLICAS_PER_BUCKET,
): ReplicaSet[] {
  if (hosts.length < replicas) {
    throw new ReplicaSetError(`${hosts.length} hosts cannot hold ${replicas} replicas`);
  }
  const ring = interleaveByDatacenter(hosts);
  const sets = new Map<string, ReplicaSet>();
  for (let leader = 0; leader < ring.length; leader += 1) {
    const members: PlacedHost[] = [ring[leader]];
    const sites = new Set([datacenterSite(ring[leader].datacenter)]);
    for (const preferNewSite of [true, false]) {
      for (let step = 1; step < ring.length && members.length < replicas; step += 1) {
        const candidate = ring[(leader + step) % ring.length];
        if (members.includes(candidate)) continue;
        if (preferNewSite && sites.has(datacenterSite(candidate.datacenter))) continue;
        members.push(candidate);
        sites.add(datacenterSite(candidate.datacenter));
      }
    }
    const set = replicaSetOf(members);
    if (!sets.has(set.id)) sets.set(set.id, set);
  }
  return [...sets.values()];
}

/**
 * The replica set of a bucket, by rendezvous hashing (highest random weight): adding or removing a set
 * moves only the buckets that hash to it.
 */
export function replicaSetForBucket(bucketName: string, sets: readonly ReplicaSet[]): ReplicaSet {
  if (sets.length === 0) throw new ReplicaSetError('no replica set to place a bucket on');
  let best = sets[0];
  let bestWeight = -1n;
  for (const set of sets) {
    const digest = createHash('sha256').update(set.id).update('\n').update(bucketName).digest();
    const weight = digest.readBigUInt64BE(0);
    if (weight > bestWeight || (weight === bestWeight && set.id < best.id)) {
      best = set;
      bestWeight = weight;
    }
  }
  return best;
}
