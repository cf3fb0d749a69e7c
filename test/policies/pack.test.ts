import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from '@pulumi/policy';
import type * as pulumi from '@pulumi/pulumi';
import test from 'ava';
import { type CoffrePolicyConfig, coffrePolicies } from '../../policies/pack.ts';
import { OVH_RESOURCE_TYPES } from '../../stacks/ovh-resource-types.ts';
import type { RegionConfig } from '../../stacks/region-config.ts';
import { threeDatacenterRegion } from '../stacks/fixtures.ts';
import { installOvhMocks, resolved } from '../stacks/pulumi-mocks.ts';

const recorded = installOvhMocks();
const { regionProgram } = await import('../../stacks/program.ts');

const defaultConfig: CoffrePolicyConfig = {
  availableDatacenters: ['gra', 'rbx', 'sbg', 'par'],
  adminPorts: [22, 9443],
};

function policy(name: string) {
  const found = coffrePolicies.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no policy ${name}`);
  return found;
}

function notApplicable(reason?: string): never {
  throw new Error(`not applicable: ${reason}`);
}

/** Runs one resource policy the way the engine does, collecting its violations. */
async function validateResource(
  name: string,
  type: string,
  props: Record<string, unknown>,
  config: Partial<CoffrePolicyConfig> = defaultConfig,
): Promise<string[]> {
  const violations: string[] = [];
  const validate = (policy(name) as ResourceValidationPolicy).validateResource;
  const validations = Array.isArray(validate) ? validate : validate ? [validate] : [];
  for (const validation of validations) {
    await validation(
      {
        type,
        props,
        urn: `urn:pulumi:test::coffre::${type}::resource`,
        name: 'resource',
        opts: {
          protect: false,
          ignoreChanges: [],
          aliases: [],
          additionalSecretOutputs: [],
          customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        },
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => config as T,
        notApplicable,
      },
      (message) => violations.push(message),
    );
  }
  return violations;
}

/** Runs every stack policy over the given resources; returns `policy: message` lines. */
async function validateStack(
  resources: PolicyResource[],
  config: Partial<CoffrePolicyConfig> = defaultConfig,
) {
  const violations: string[] = [];
  for (const candidate of coffrePolicies) {
    if (!('validateStack' in candidate)) continue;
    await (candidate as StackValidationPolicy).validateStack(
      { resources, stackTags: new Map(), getConfig: <T extends object>() => config as T, notApplicable },
      (message) => violations.push(`${candidate.name}: ${message}`),
    );
  }
  return violations;
}

/**
 * Runs the real region program under the mocks and returns its resources as the policy engine sees
 * them at preview: type, resolved inputs as props, URN and parent.
 */
async function regionResources(config: RegionConfig): Promise<PolicyResource[]> {
  const seen: { resource: pulumi.Resource; type: string; name: string; parent?: pulumi.Resource }[] = [];
  const outputs = regionProgram(config, {
    transformations: [
      (args) => {
        seen.push({ resource: args.resource, type: args.type, name: args.name, parent: args.opts.parent });
        return undefined;
      },
    ],
  });
  await resolved(outputs.hosts);
  const byResource = new Map<pulumi.Resource, PolicyResource>();
  for (const entry of seen) {
    const props = recorded.find((resource) => resource.name === entry.name)?.inputs ?? {};
    byResource.set(entry.resource, {
      type: entry.type,
      name: entry.name,
      props,
      urn: await resolved(entry.resource.urn),
      opts: {
        protect: false,
        ignoreChanges: [],
        aliases: [],
        additionalSecretOutputs: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
      },
      dependencies: [],
      propertyDependencies: {},
      isType: () => false,
      asType: () => undefined,
    });
  }
  for (const entry of seen) {
    const parent = entry.parent ? byResource.get(entry.parent) : undefined;
    if (parent) byResource.get(entry.resource)!.parent = parent;
  }
  return [...byResource.values()];
}

test('pack: five mandatory policies with unique names', (t) => {
  t.deepEqual(
    coffrePolicies.map((candidate) => candidate.name),
    [
      'servers-in-french-datacenters',
      'region-spread',
      'approved-os-templates',
      'no-admin-port-on-internet',
      'hosts-firewalled-and-on-vrack',
    ],
  );
  t.true(coffrePolicies.every((candidate) => candidate.enforcementLevel === 'mandatory'));
});

test('pack: a server ordered in Frankfurt is reported, one in Gravelines is not', async (t) => {
  const order = (datacenter: string) => ({
    os: 'debian12_64',
    plans: [{ configurations: [{ label: 'dedicated_datacenter', value: datacenter }] }],
  });
  const name = 'servers-in-french-datacenters';
  t.deepEqual(await validateResource(name, OVH_RESOURCE_TYPES.dedicatedServer, order('gra')), []);
  const violations = await validateResource(name, OVH_RESOURCE_TYPES.dedicatedServer, order('fra'));
  t.is(violations.length, 1);
  t.regex(violations[0], /fra is not in France/);
});

test('pack: resource policies ignore resources of other types', async (t) => {
  t.deepEqual(await validateResource('servers-in-french-datacenters', OVH_RESOURCE_TYPES.vrack, {}), []);
  t.deepEqual(await validateResource('approved-os-templates', OVH_RESOURCE_TYPES.ipFirewall, {}), []);
  t.deepEqual(
    await validateResource('no-admin-port-on-internet', OVH_RESOURCE_TYPES.dedicatedServer, {}),
    [],
  );
});

test('pack: an unapproved OS template is reported', async (t) => {
  const violations = await validateResource('approved-os-templates', OVH_RESOURCE_TYPES.dedicatedServer, {
    os: 'win2022-std_64',
  });
  t.is(violations.length, 1);
});

test('pack: SSH open to the internet is reported; the admin ports come from the pack configuration', async (t) => {
  const name = 'no-admin-port-on-internet';
  const ssh = { sequence: 5, action: 'permit', protocol: 'tcp', destinationPort: 22 };
  t.is((await validateResource(name, OVH_RESOURCE_TYPES.ipFirewallRule, ssh)).length, 1);
  const custom = { sequence: 5, action: 'permit', protocol: 'tcp', destinationPort: 2222 };
  t.is((await validateResource(name, OVH_RESOURCE_TYPES.ipFirewallRule, custom)).length, 0);
  t.is(
    (await validateResource(name, OVH_RESOURCE_TYPES.ipFirewallRule, custom, { adminPorts: [2222] })).length,
    1,
  );
});

test('pack: the region program of a 3-datacenter region passes every stack policy', async (t) => {
  const resources = await regionResources(threeDatacenterRegion({ name: 'fr-pack' }));
  t.is(resources.filter((resource) => resource.type === OVH_RESOURCE_TYPES.dedicatedServer).length, 3);
  t.deepEqual(await validateStack(resources), []);
  for (const resource of resources) {
    const resourceViolations = await Promise.all(
      coffrePolicies
        .filter((candidate) => 'validateResource' in candidate)
        .map((candidate) => validateResource(candidate.name, resource.type, resource.props)),
    );
    t.deepEqual(resourceViolations.flat(), [], `${resource.type} ${resource.name}`);
  }
});

test('pack: the same region passes with 2 datacenters only when only 2 are available', async (t) => {
  const resources = await regionResources(
    threeDatacenterRegion({
      name: 'fr-two',
      availableDatacenters: ['gra', 'rbx'],
      hosts: [
        { name: 'gra-1', datacenter: 'gra' },
        { name: 'gra-2', datacenter: 'gra' },
        { name: 'rbx-1', datacenter: 'rbx' },
      ],
    }),
  );
  t.deepEqual(await validateStack(resources, { availableDatacenters: ['gra', 'rbx'] }), []);
  const strict = await validateStack(resources, { availableDatacenters: ['gra', 'rbx', 'sbg'] });
  t.is(strict.length, 1);
  t.regex(strict[0], /^region-spread: hosts in 2 French datacenters \(gra, rbx\); at least 3 required/);
});

test('pack: removing a host, its firewall rules or its vRack attachment is reported', async (t) => {
  const resources = await regionResources(threeDatacenterRegion({ name: 'fr-broken' }));
  const firstServer = resources.find((resource) => resource.type === OVH_RESOURCE_TYPES.dedicatedServer)!;
  const withoutHost = resources.filter((resource) => resource !== firstServer);
  t.true((await validateStack(withoutHost)).some((line) => line.startsWith('region-spread: 2 hosts')));

  const host = firstServer.parent!;
  const withoutRules = resources.filter(
    (resource) => !(resource.parent === host && resource.type === OVH_RESOURCE_TYPES.ipFirewallRule),
  );
  t.deepEqual(await validateStack(withoutRules), [
    'hosts-firewalled-and-on-vrack: the IP firewall has no final deny-all rule, so unmatched traffic reaches every port',
  ]);

  const withoutVrack = resources.filter(
    (resource) => !(resource.parent === host && resource.type === OVH_RESOURCE_TYPES.vrackServerInterface),
  );
  t.deepEqual(await validateStack(withoutVrack), [
    'hosts-firewalled-and-on-vrack: no vRack: replication and admin traffic would cross the internet',
  ]);
});
