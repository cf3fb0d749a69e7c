// The rules of the policy pack as plain functions of resource properties: each returns the sentences
// that describe its violations (none when compliant). They reuse the stacks' pure region rules, so a
// region that the program accepts is one the pack accepts, and the reverse.
import { ORDER_DATACENTER_LABEL } from '../stacks/ovh-resource-types.ts';
import {
  APPROVED_OS_TEMPLATES,
  DEFAULT_ADMIN_PORT,
  datacenterSite,
  FRENCH_DATACENTERS,
  isApprovedOsTemplate,
  isFrenchDatacenter,
  isInternetWide,
  placementProblems,
  SSH_PORT,
} from '../stacks/region-config.ts';

/** Resource properties as the policy engine gives them: unknown until the provider resolves them. */
export type Properties = Record<string, unknown>;

export const DEFAULT_ADMIN_PORTS: readonly number[] = [SSH_PORT, DEFAULT_ADMIN_PORT];

function configurationItems(props: Properties): { label?: unknown; value?: unknown }[] {
  const plans = Array.isArray(props.plans) ? props.plans : [];
  return plans.flatMap((plan: unknown) => {
    const items = (plan as { configurations?: unknown } | null)?.configurations;
    return Array.isArray(items) ? (items as { label?: unknown; value?: unknown }[]) : [];
  });
}

/**
 * Where a dedicated server is, as far as its properties say: the datacenter of its order and, once it
 * exists, the datacenter OVHcloud reports.
 */
export function serverDatacenters(props: Properties): string[] {
  const ordered = configurationItems(props)
    .filter((item) => item.label === ORDER_DATACENTER_LABEL && typeof item.value === 'string')
    .map((item) => item.value as string);
  const reported = typeof props.datacenter === 'string' && props.datacenter !== '' ? [props.datacenter] : [];
  return [...ordered, ...reported];
}

/** Sovereignty: a dedicated server is ordered, and stays, in a French OVHcloud datacenter. */
export function frenchDatacenterViolations(props: Properties): string[] {
  const datacenters = serverDatacenters(props);
  if (datacenters.length === 0) {
    return [
      'the server names no datacenter (plans[].configurations dedicated_datacenter), so France is not proven',
    ];
  }
  return datacenters
    .filter((datacenter) => !isFrenchDatacenter(datacenter))
    .map(
      (datacenter) =>
        `datacenter ${datacenter} is not in France (allowed: ${FRENCH_DATACENTERS.join(', ')}): data must stay in France`,
    );
}

/** Only OS templates the agent is tested on are installed. */
export function osTemplateViolations(props: Properties): string[] {
  const template = props.os;
  if (typeof template !== 'string' || template === '') {
    return [`the server installs no OS template; one of ${APPROVED_OS_TEMPLATES.join(', ')} is required`];
  }
  if (!isApprovedOsTemplate(template)) {
    return [`OS template ${template} is not approved (approved: ${APPROVED_OS_TEMPLATES.join(', ')})`];
  }
  return [];
}

/** Durability: at least 3 hosts over at least 2 French datacenters, 3 when the offer is available in 3. */
export function regionSpreadViolations(
  serverDatacenterLists: readonly string[][],
  availableDatacenters: readonly string[] = FRENCH_DATACENTERS,
): string[] {
  // A server's order and its reported datacenter name the same site; count each server once.
  const sites = serverDatacenterLists.map((datacenters) =>
    datacenters[0] ? datacenterSite(datacenters[0]) : '?',
  );
  return placementProblems(sites, availableDatacenters)
    .filter((problem) => problem.code !== 'NotInFrance')
    .map((problem) => problem.message);
}

function coversPort(rule: Properties, port: number): boolean {
  const destination = rule.destinationPort;
  return destination === undefined || destination === null || destination === port;
}

/**
 * No SSH or admin port open to the internet: a permitting rule whose source is the whole internet must
 * not let new TCP connections reach those ports (TCP `established` only admits replies).
 */
export function firewallRuleViolations(
  rule: Properties,
  adminPorts: readonly number[] = DEFAULT_ADMIN_PORTS,
): string[] {
  if (rule.action !== 'permit' || !isInternetWide(rule.source as string | undefined)) return [];
  if (rule.protocol !== 'tcp' && rule.protocol !== 'ipv4') return [];
  if (rule.protocol === 'tcp' && rule.tcpOption === 'established') return [];
  return adminPorts
    .filter((port) => coversPort(rule, port))
    .map((port) => `rule ${String(rule.sequence)} opens port ${port} (SSH or admin) to the internet`);
}

/** OVHcloud's IP firewall admits what no rule matches: a host is closed only with an enabled firewall that ends in a deny-all. */
export function hostFirewallViolations(
  firewalls: readonly Properties[],
  rules: readonly Properties[],
): string[] {
  if (!firewalls.some((firewall) => firewall.enabled === true)) {
    return ['the server has no enabled IP firewall, so every port (SSH included) is open to the internet'];
  }
  const denyAll = rules.some(
    (rule) =>
      rule.action === 'deny' &&
      rule.protocol === 'ipv4' &&
      isInternetWide(rule.source as string | undefined) &&
      rule.destinationPort === undefined,
  );
  return denyAll
    ? []
    : ['the IP firewall has no final deny-all rule, so unmatched traffic reaches every port'];
}

/** Replication and admin traffic stay on the private network: every server is attached to a vRack. */
export function vrackViolations(serverCount: number, attachmentCount: number): string[] {
  if (serverCount === 0) return [];
  if (attachmentCount === 0) return ['no vRack: replication and admin traffic would cross the internet'];
  if (attachmentCount < serverCount) {
    return [`${serverCount - attachmentCount} of ${serverCount} servers are not attached to the vRack`];
  }
  return [];
}
