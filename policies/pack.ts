// The Coffre policy pack's policies: the rules of rules.ts wired to the CrossGuard engine. Kept apart
// from index.ts, which starts the policy server on construction, so tests can load and call them.
import type {
  Policies,
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from '@pulumi/policy';
import { COFFRE_COMPONENT_TYPES, OVH_RESOURCE_TYPES } from '../stacks/ovh-resource-types.ts';
import { FRENCH_DATACENTERS } from '../stacks/region-config.ts';
import {
  DEFAULT_ADMIN_PORTS,
  firewallRuleViolations,
  frenchDatacenterViolations,
  hostFirewallViolations,
  osTemplateViolations,
  regionSpreadViolations,
  serverDatacenters,
  vrackViolations,
} from './rules.ts';

export const POLICY_PACK_NAME = 'coffre-sovereignty';

export interface CoffrePolicyConfig {
  /** French sites where the server offer can be ordered now (the spread rule asks 3 of them when it can). */
  availableDatacenters: string[];
  /** Ports that must never be reachable from the internet. */
  adminPorts: number[];
}

function report(reportViolation: ReportViolation, messages: string[], urn?: string): void {
  for (const message of messages) reportViolation(message, urn);
}

function onServers(validate: (props: Record<string, unknown>) => string[]) {
  return (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
    if (args.type !== OVH_RESOURCE_TYPES.dedicatedServer) return;
    report(reportViolation, validate(args.props));
  };
}

/** The nearest ancestor of a given component type, or undefined. */
function ancestorOfType(resource: PolicyResource, type: string): PolicyResource | undefined {
  for (let parent = resource.parent; parent !== undefined; parent = parent.parent) {
    if (parent.type === type) return parent;
  }
  return undefined;
}

/** Resources grouped by a key (the region, the host), in a stable order. */
function groupBy(resources: PolicyResource[], key: (resource: PolicyResource) => string) {
  const groups = new Map<string, PolicyResource[]>();
  for (const resource of resources)
    groups.set(key(resource), [...(groups.get(key(resource)) ?? []), resource]);
  return groups;
}

/** Resources of a host: the children of the server's parent (its Host component), or the whole stack. */
const hostKey = (resource: PolicyResource) => resource.parent?.urn ?? 'stack';
const regionKey = (resource: PolicyResource) =>
  ancestorOfType(resource, COFFRE_COMPONENT_TYPES.region)?.urn ?? 'stack';

const frenchDatacenters: ResourceValidationPolicy = {
  name: 'servers-in-french-datacenters',
  description: `Dedicated servers only in French OVHcloud datacenters (${FRENCH_DATACENTERS.join(', ')}).`,
  enforcementLevel: 'mandatory',
  validateResource: onServers(frenchDatacenterViolations),
};

const approvedOsTemplates: ResourceValidationPolicy = {
  name: 'approved-os-templates',
  description: 'Dedicated servers install only the OS templates the agent is tested on.',
  enforcementLevel: 'mandatory',
  validateResource: onServers(osTemplateViolations),
};

const noAdminPortOnInternet: ResourceValidationPolicy = {
  name: 'no-admin-port-on-internet',
  description: 'No IP firewall rule lets the internet reach SSH or the admin API.',
  enforcementLevel: 'mandatory',
  configSchema: {
    properties: {
      adminPorts: { type: 'array', items: { type: 'integer' }, default: [...DEFAULT_ADMIN_PORTS] },
    },
  },
  validateResource: (args, reportViolation) => {
    if (args.type !== OVH_RESOURCE_TYPES.ipFirewallRule) return;
    const { adminPorts } = args.getConfig<Partial<CoffrePolicyConfig>>();
    report(reportViolation, firewallRuleViolations(args.props, adminPorts ?? DEFAULT_ADMIN_PORTS));
  },
};

const regionSpread: StackValidationPolicy = {
  name: 'region-spread',
  description: 'At least 3 hosts per region, over at least 2 French datacenters (3 when the offer allows).',
  enforcementLevel: 'mandatory',
  configSchema: {
    properties: {
      availableDatacenters: { type: 'array', items: { type: 'string' }, default: [...FRENCH_DATACENTERS] },
    },
  },
  validateStack: (args, reportViolation) => {
    const { availableDatacenters } = args.getConfig<Partial<CoffrePolicyConfig>>();
    const servers = args.resources.filter((resource) => resource.type === OVH_RESOURCE_TYPES.dedicatedServer);
    for (const [region, members] of groupBy(servers, regionKey)) {
      const messages = regionSpreadViolations(
        members.map((server) => serverDatacenters(server.props)),
        availableDatacenters ?? FRENCH_DATACENTERS,
      );
      report(reportViolation, messages, region === 'stack' ? undefined : region);
    }
  },
};

const hostsClosed: StackValidationPolicy = {
  name: 'hosts-firewalled-and-on-vrack',
  description: 'Every server has an enabled IP firewall ending in deny-all, and is attached to a vRack.',
  enforcementLevel: 'mandatory',
  validateStack: (args, reportViolation) => {
    const byHost = groupBy(args.resources, hostKey);
    for (const members of byHost.values()) {
      const ofType = (type: string) => members.filter((resource) => resource.type === type);
      const servers = ofType(OVH_RESOURCE_TYPES.dedicatedServer);
      if (servers.length === 0) continue;
      const firewalls = ofType(OVH_RESOURCE_TYPES.ipFirewall).map((resource) => resource.props);
      const rules = ofType(OVH_RESOURCE_TYPES.ipFirewallRule).map((resource) => resource.props);
      const attachments =
        ofType(OVH_RESOURCE_TYPES.vrackServerInterface).length +
        ofType(OVH_RESOURCE_TYPES.vrackLegacyServer).length;
      for (const server of servers) {
        report(reportViolation, hostFirewallViolations(firewalls, rules), server.urn);
      }
      report(reportViolation, vrackViolations(servers.length, attachments), servers[0].urn);
    }
  },
};

/** The pack's policies, in the order the engine reports them. */
export const coffrePolicies: Policies = [
  frenchDatacenters,
  regionSpread,
  approvedOsTemplates,
  noAdminPortOnInternet,
  hostsClosed,
];
