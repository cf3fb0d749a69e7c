// A region: at least 3 hosts over at least 2 French OVHcloud datacenters (3 when the offer allows),
// joined by a vRack for replication and admin traffic, serving S3 on one public port.
import * as ovh from '@ovhcloud/pulumi-ovh';
import * as pulumi from '@pulumi/pulumi';
import { Host, type HostOutputs } from './host.ts';
import { COFFRE_COMPONENT_TYPES } from './ovh-resource-types.ts';
import { datacenterSite, type RegionConfig } from './region-config.ts';
import { assertValidRegionConfig } from './region-validation.ts';
import { type ReplicaSet, replicaSets } from './replica-sets.ts';

/** What a region gives its users and the operator once it is up. */
export interface RegionOutputs {
  region: string;
  hosts: HostOutputs[];
  s3Endpoint: string;
  replicaSets: ReplicaSet[];
  vrackServiceName: string;
}

const VRACK_PLAN = { planCode: 'vrack', duration: 'P1M', pricingMode: 'default' } as const;

/** `https://s3.fr-par.example.fr` with DNS, else the first host's address; the port only when not 443. */
export function s3EndpointUrl(config: RegionConfig, firstHostAddress: string): string {
  const hostname = config.dns ? `${config.dns.subdomain}.${config.dns.zone}` : firstHostAddress;
  return config.s3Port === 443 ? `https://${hostname}` : `https://${hostname}:${config.s3Port}`;
}

export class Region extends pulumi.ComponentResource {
  readonly hosts: Host[];
  readonly vrack?: ovh.vrack.Vrack;
  readonly dnsRecords: ovh.domain.ZoneRecord[];
  readonly outputs: pulumi.Output<RegionOutputs>;

  /** Throws RegionConfigError, before any resource exists, when the configuration breaks a rule. */
  constructor(name: string, config: RegionConfig, opts?: pulumi.ComponentResourceOptions) {
    assertValidRegionConfig(config);
    super(COFFRE_COMPONENT_TYPES.region, name, {}, opts);
    let vrackServiceName: pulumi.Output<string>;
    if (config.vrackServiceName) {
      vrackServiceName = pulumi.output(config.vrackServiceName);
    } else {
      this.vrack = new ovh.vrack.Vrack(
        `${name}-vrack`,
        {
          name: `coffre-${config.name}`,
          description: `Coffre region ${config.name}: replication and admin traffic`,
          ovhSubsidiary: config.ovhSubsidiary,
          plan: VRACK_PLAN,
        },
        { parent: this },
      );
      vrackServiceName = this.vrack.serviceName;
    }
    this.hosts = config.hosts.map(
      (host, index) =>
        new Host(`${name}-${host.name}`, { region: config, host, index, vrackServiceName }, { parent: this }),
    );
    this.dnsRecords = config.dns
      ? this.hosts.map(
          (host, index) =>
            new ovh.domain.ZoneRecord(
              `${name}-s3-${config.hosts[index].name}`,
              {
                zone: config.dns!.zone,
                subdomain: config.dns!.subdomain,
                fieldtype: 'A',
                target: host.server.ip,
                ttl: 300,
              },
              { parent: this },
            ),
        )
      : [];
    const sets = replicaSets(
      config.hosts.map((host) => ({ name: host.name, datacenter: datacenterSite(host.datacenter) })),
    );
    this.outputs = pulumi
      .all([vrackServiceName, pulumi.all(this.hosts.map((host) => host.outputs))])
      .apply(([vrack, hosts]) => ({
        region: config.name,
        hosts,
        s3Endpoint: s3EndpointUrl(config, hosts[0].publicAddress),
        replicaSets: sets,
        vrackServiceName: vrack,
      }));
    this.registerOutputs({ outputs: this.outputs });
  }
}
