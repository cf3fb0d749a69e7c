// The region's configuration and the rules it must satisfy before anything is ordered. This module is
// pure (no Pulumi, no I/O) so that the Pulumi program, the policy pack and the operator all apply the
// same rules: the promise "100 % sovereign: servers in France" and "triple replication, in distinct
// datacenters where the region has them" (shared/ARCHITECTURE.md) is checked in one place.

/** OVHcloud's French datacenter sites: Gravelines, Roubaix, Strasbourg, Paris. */
export const FRENCH_DATACENTERS = ['gra', 'rbx', 'sbg', 'par'] as const;
export type FrenchDatacenter = (typeof FRENCH_DATACENTERS)[number];

/** Each object version is stored on 3 hosts, so a region needs at least 3. */
export const MIN_HOSTS_PER_REGION = 3;
export const REPLICAS_PER_BUCKET = 3;
/** A region always survives the loss of a whole datacenter: 2 at least, 3 when the offer allows. */
export const MIN_DATACENTERS_PER_REGION = 2;
export const PREFERRED_DATACENTERS_PER_REGION = 3;
/** A bound on one region's size, so that every loop over hosts is bounded. */
export const MAX_HOSTS_PER_REGION = 64;

/** OS templates (OVHcloud installation template names) that the agent is tested on. */
export const APPROVED_OS_TEMPLATES = ['debian12_64', 'debian13_64', 'ubuntu2404-server_64'] as const;

/** SSH, and the agent's admin API: never reachable from the internet. */
export const SSH_PORT = 22;
export const DEFAULT_ADMIN_PORT = 9443;
export const DEFAULT_S3_PORT = 443;
/** The system goes on a software RAID 1 over this many drives; every other drive is the agent's. */
export const SYSTEM_DRIVE_COUNT = 2;
/** An OVHcloud IP firewall holds at most 20 rules (sequence 0 to 19). */
export const MAX_FIREWALL_RULES = 20;
/** Firewall rules the region always sets; the rest of the 20 can admit admin sources. */
export const FIXED_FIREWALL_RULES = 6;

export interface ServerOffer {
  /** OVHcloud plan code of the dedicated server (for example a storage range server). */
  planCode: string;
  /** ISO 8601 commitment duration, `P1M` for monthly. */
  duration: string;
  pricingMode: string;
  /** Plan options (memory, drives, bandwidth), ordered with the server. */
  options: { planCode: string; quantity: number }[];
}

export interface HostConfig {
  /** The host's name, a DNS label unique in the region (`par-1`). */
  name: string;
  /** The OVHcloud datacenter the server is ordered in: a site (`gra`) or a datacenter (`gra3`). */
  datacenter: string;
}

export interface RegionConfig {
  /** The region's name, a DNS label (`fr-par`); the Pulumi stack has the same name. */
  name: string;
  /** The OVHcloud subsidiary that bills the servers (`FR`). */
  ovhSubsidiary: string;
  osTemplate: string;
  /** The OVHcloud disk group whose first 2 drives hold the system (0: the installer's default group). */
  systemDiskGroupId: number;
  server: ServerOffer;
  hosts: HostConfig[];
  /** French sites where the server offer can be ordered now; the spread rule counts only these. */
  availableDatacenters: string[];
  /** The vRack's private subnet, IPv4 CIDR; host n gets address n + 1 in it. */
  privateNetworkCidr: string;
  /** An existing vRack (`pn-12345`); when absent, the region orders its own. */
  vrackServiceName?: string;
  s3Port: number;
  adminPort: number;
  /** Public keys installed for root; the operator's rollout key is one of them. */
  sshPublicKeys: string[];
  /** Internet sources allowed to reach SSH (a bastion): single hosts or small ranges, never `0.0.0.0/0`. */
  adminSourceCidrs: string[];
  /** DNS zone managed at OVHcloud where `<subdomain>.<zone>` gets one A record per host. */
  dns?: { zone: string; subdomain: string };
}

export type RegionConfigProblemCode =
  | 'NotInFrance'
  | 'TooFewHosts'
  | 'TooManyHosts'
  | 'TooFewDatacenters'
  | 'DuplicateHostName'
  | 'InvalidName'
  | 'UnapprovedOsTemplate'
  | 'InvalidPort'
  | 'AdminOpenToInternet'
  | 'InvalidCidr'
  | 'MissingSshKey'
  | 'MissingOffer'
  | 'InvalidType';

export interface RegionConfigProblem {
  code: RegionConfigProblemCode;
  message: string;
}

/** The region's configuration breaks a rule: nothing is created. */
export class RegionConfigError extends Error {
  readonly code = 'InvalidRegionConfig';
  readonly problems: RegionConfigProblem[];
  constructor(regionName: string, problems: RegionConfigProblem[]) {
    super(`region ${regionName}: ${problems.map((problem) => problem.message).join('; ')}`);
    this.name = 'RegionConfigError';
    this.problems = problems;
  }
}

/** `gra3` -> `gra`, `RBX` -> `rbx`: OVHcloud names datacenters by site and a number. */
export function datacenterSite(datacenter: string): string {
  return datacenter
    .trim()
    .toLowerCase()
    .replace(/[-_]?\d+$/, '');
}

export function isFrenchDatacenter(datacenter: string): boolean {
  return (FRENCH_DATACENTERS as readonly string[]).includes(datacenterSite(datacenter));
}

/** 2 datacenters at least; 3 when the offer can be ordered in 3 or more French sites. */
export function requiredDatacenterSpread(availableDatacenters: readonly string[]): number {
  const available = new Set(availableDatacenters.filter(isFrenchDatacenter).map(datacenterSite)).size;
  return Math.max(MIN_DATACENTERS_PER_REGION, Math.min(PREFERRED_DATACENTERS_PER_REGION, available));
}

export function isApprovedOsTemplate(template: string): boolean {
  return (APPROVED_OS_TEMPLATES as readonly string[]).includes(template);
}

const dnsLabel = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function isDnsLabel(name: string): boolean {
  return dnsLabel.test(name);
}

/** Parses `a.b.c.d/n`; null when it is not an IPv4 CIDR. */
export function parseIpv4Cidr(cidr: string): { address: number; prefixLength: number } | null {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr.trim());
  if (!match) return null;
  const octets = match.slice(1, 5).map(Number);
  const prefixLength = Number(match[5]);
  if (octets.some((octet) => octet > 255) || prefixLength > 32) return null;
  const address = octets.reduce((value, octet) => value * 256 + octet, 0);
  return { address, prefixLength };
}

/** A source that stands for the whole internet: absent, `0.0.0.0/0`, or any prefix shorter than /8. */
export function isInternetWide(source: string | undefined | null): boolean {
  if (source === undefined || source === null || source.trim() === '' || source.trim() === 'any') return true;
  const parsed = parseIpv4Cidr(source.includes('/') ? source : `${source}/32`);
  return parsed === null || parsed.prefixLength < 8;
}

export interface SpreadSummary {
  hostCount: number;
  datacenters: string[];
  foreignDatacenters: string[];
}

/** What the placement rules look at, from any list of datacenters (config, or servers in a stack). */
export function summarizeSpread(hostDatacenters: readonly string[]): SpreadSummary {
  const sites = new Set(hostDatacenters.map(datacenterSite));
  return {
    hostCount: hostDatacenters.length,
    datacenters: [...sites].filter((site) => isFrenchDatacenter(site)).sort(),
    foreignDatacenters: [...sites].filter((site) => !isFrenchDatacenter(site)).sort(),
  };
}

/** The placement rules shared with the policy pack: France only, enough hosts, enough datacenters. */
export function placementProblems(
  hostDatacenters: readonly string[],
  availableDatacenters: readonly string[] = FRENCH_DATACENTERS,
): RegionConfigProblem[] {
  const spread = summarizeSpread(hostDatacenters);
  const problems: RegionConfigProblem[] = [];
  if (spread.foreignDatacenters.length > 0) {
    problems.push({
      code: 'NotInFrance',
      message: `datacenters ${spread.foreignDatacenters.join(', ')} are not in France (allowed: ${FRENCH_DATACENTERS.join(', ')})`,
    });
  }
  if (spread.hostCount < MIN_HOSTS_PER_REGION) {
    problems.push({
      code: 'TooFewHosts',
      message: `${spread.hostCount} hosts; a region needs at least ${MIN_HOSTS_PER_REGION} for triple replication`,
    });
  }
  if (spread.hostCount > MAX_HOSTS_PER_REGION) {
    problems.push({
      code: 'TooManyHosts',
      message: `${spread.hostCount} hosts; at most ${MAX_HOSTS_PER_REGION}`,
    });
  }
  const required = requiredDatacenterSpread(availableDatacenters);
  if (spread.datacenters.length < required) {
    problems.push({
      code: 'TooFewDatacenters',
      message: `hosts in ${spread.datacenters.length} French datacenters (${spread.datacenters.join(', ') || 'none'}); at least ${required} required`,
    });
  }
  return problems;
}
