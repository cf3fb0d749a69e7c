// Turns a stack's configuration object (from `Pulumi.<stack>.yaml` or from a `Region` resource) into
// a RegionConfig and checks every rule; pure, so the program refuses a bad region before it creates
// a single resource, and the operator can refuse it before it calls Pulumi at all.
import {
  DEFAULT_ADMIN_PORT,
  DEFAULT_S3_PORT,
  FIXED_FIREWALL_RULES,
  FRENCH_DATACENTERS,
  isApprovedOsTemplate,
  isDnsLabel,
  isInternetWide,
  MAX_FIREWALL_RULES,
  parseIpv4Cidr,
  placementProblems,
  type RegionConfig,
  RegionConfigError,
  type RegionConfigProblem,
  SSH_PORT,
} from './region-config.ts';

/** Every rule the region's configuration breaks; an empty list means it can be deployed. */
export function validateRegionConfig(config: RegionConfig): RegionConfigProblem[] {
  const problems: RegionConfigProblem[] = [];
  if (!isDnsLabel(config.name)) {
    problems.push({
      code: 'InvalidName',
      message: `region name ${JSON.stringify(config.name)} is not a DNS label`,
    });
  }
  problems.push(
    ...placementProblems(
      config.hosts.map((host) => host.datacenter),
      config.availableDatacenters,
    ),
  );
  const seen = new Set<string>();
  for (const host of config.hosts) {
    if (!isDnsLabel(host.name)) {
      problems.push({
        code: 'InvalidName',
        message: `host name ${JSON.stringify(host.name)} is not a DNS label`,
      });
    }
    if (seen.has(host.name)) {
      problems.push({ code: 'DuplicateHostName', message: `host name ${host.name} is used twice` });
    }
    seen.add(host.name);
  }
  if (!isApprovedOsTemplate(config.osTemplate)) {
    problems.push({
      code: 'UnapprovedOsTemplate',
      message: `OS template ${config.osTemplate} is not approved`,
    });
  }
  problems.push(...portProblems(config), ...networkProblems(config));
  if (config.sshPublicKeys.length === 0) {
    problems.push({
      code: 'MissingSshKey',
      message: 'at least one SSH public key is needed to administer the hosts',
    });
  }
  if (config.server.planCode === '' || config.ovhSubsidiary === '') {
    problems.push({
      code: 'MissingOffer',
      message: 'server.planCode and ovhSubsidiary are required to order servers',
    });
  }
  return problems;
}

function portProblems(config: RegionConfig): RegionConfigProblem[] {
  const problems: RegionConfigProblem[] = [];
  for (const [label, port] of [
    ['s3Port', config.s3Port],
    ['adminPort', config.adminPort],
  ] as const) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      problems.push({ code: 'InvalidPort', message: `${label} ${port} is not a TCP port` });
    }
  }
  if (config.s3Port === SSH_PORT || config.s3Port === config.adminPort) {
    problems.push({
      code: 'AdminOpenToInternet',
      message: `s3Port ${config.s3Port} is public, so it cannot be the SSH or admin port`,
    });
  }
  return problems;
}

function networkProblems(config: RegionConfig): RegionConfigProblem[] {
  const problems: RegionConfigProblem[] = [];
  const privateNetwork = parseIpv4Cidr(config.privateNetworkCidr);
  if (privateNetwork === null || privateNetwork.prefixLength > 30) {
    problems.push({
      code: 'InvalidCidr',
      message: `privateNetworkCidr ${config.privateNetworkCidr} is not usable`,
    });
  } else if (2 ** (32 - privateNetwork.prefixLength) - 2 < config.hosts.length) {
    problems.push({
      code: 'InvalidCidr',
      message: `privateNetworkCidr ${config.privateNetworkCidr} is too small`,
    });
  }
  if (config.adminSourceCidrs.length > MAX_FIREWALL_RULES - FIXED_FIREWALL_RULES) {
    problems.push({
      code: 'InvalidCidr',
      message: `${config.adminSourceCidrs.length} adminSourceCidrs; the firewall has room for ${MAX_FIREWALL_RULES - FIXED_FIREWALL_RULES}`,
    });
  }
  for (const source of config.adminSourceCidrs) {
    if (isInternetWide(source)) {
      problems.push({
        code: 'AdminOpenToInternet',
        message: `adminSourceCidrs ${source} opens SSH to the internet`,
      });
    } else if (parseIpv4Cidr(source.includes('/') ? source : `${source}/32`) === null) {
      problems.push({
        code: 'InvalidCidr',
        message: `adminSourceCidrs ${source} is not an IPv4 address or CIDR`,
      });
    }
  }
  return problems;
}

/** Throws RegionConfigError listing every broken rule. */
export function assertValidRegionConfig(config: RegionConfig): void {
  const problems = validateRegionConfig(config);
  if (problems.length > 0) throw new RegionConfigError(config.name, problems);
}

type RawObject = Record<string, unknown>;

function field<T>(raw: RawObject, key: string, fallback: T, check: (value: unknown) => value is T): T {
  const value = raw[key];
  if (value === undefined || value === null) return fallback;
  if (!check(value)) {
    throw new RegionConfigError(String(raw.name ?? '?'), [
      { code: 'InvalidType', message: `${key} has the wrong type (${JSON.stringify(value)})` },
    ]);
  }
  return value;
}

const isString = (value: unknown): value is string => typeof value === 'string';
const isNumber = (value: unknown): value is number => typeof value === 'number';
const isStringList = (value: unknown): value is string[] => Array.isArray(value) && value.every(isString);
const isObject = (value: unknown): value is RawObject => typeof value === 'object' && value !== null;
const isObjectList = (value: unknown): value is RawObject[] => Array.isArray(value) && value.every(isObject);

/**
 * Reads the `coffre:region` configuration object, with defaults: S3 on 443, the admin API on 9443,
 * monthly default pricing, every French site available. Types are checked here; rules are not (see
 * validateRegionConfig).
 */
export function regionConfigFromObject(raw: unknown): RegionConfig {
  if (!isObject(raw)) {
    throw new RegionConfigError('?', [
      { code: 'InvalidType', message: 'the region configuration is not an object' },
    ]);
  }
  const server = field(raw, 'server', {} as RawObject, isObject);
  const dns = field<RawObject | undefined>(raw, 'dns', undefined, isObject);
  return {
    name: field(raw, 'name', '', isString),
    ovhSubsidiary: field(raw, 'ovhSubsidiary', 'FR', isString),
    osTemplate: field(raw, 'osTemplate', 'debian12_64', isString),
    systemDiskGroupId: field(raw, 'systemDiskGroupId', 0, isNumber),
    server: {
      planCode: field(server, 'planCode', '', isString),
      duration: field(server, 'duration', 'P1M', isString),
      pricingMode: field(server, 'pricingMode', 'default', isString),
      options: field(server, 'options', [] as RawObject[], isObjectList).map((option) => ({
        planCode: field(option, 'planCode', '', isString),
        quantity: field(option, 'quantity', 1, isNumber),
      })),
    },
    hosts: field(raw, 'hosts', [] as RawObject[], isObjectList).map((host) => ({
      name: field(host, 'name', '', isString),
      datacenter: field(host, 'datacenter', '', isString),
    })),
    availableDatacenters: field(raw, 'availableDatacenters', [...FRENCH_DATACENTERS], isStringList),
    privateNetworkCidr: field(raw, 'privateNetworkCidr', '10.42.0.0/24', isString),
    vrackServiceName: field<string | undefined>(raw, 'vrackServiceName', undefined, isString),
    s3Port: field(raw, 's3Port', DEFAULT_S3_PORT, isNumber),
    adminPort: field(raw, 'adminPort', DEFAULT_ADMIN_PORT, isNumber),
    sshPublicKeys: field(raw, 'sshPublicKeys', [] as string[], isStringList),
    adminSourceCidrs: field(raw, 'adminSourceCidrs', [] as string[], isStringList),
    dns:
      dns === undefined
        ? undefined
        : { zone: field(dns, 'zone', '', isString), subdomain: field(dns, 'subdomain', '', isString) },
  };
}
