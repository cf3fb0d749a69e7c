// One storage host: an OVHcloud dedicated server ordered in a French datacenter and installed with the
// system on RAID 1, attached to the region's vRack, behind a firewall that exposes only S3.
import * as ovh from '@ovhcloud/pulumi-ovh';
import * as pulumi from '@pulumi/pulumi';
import {
  type Drive,
  firewallRules,
  firstBootUserData,
  hostDrives,
  orderPlan,
  privateAddress,
  systemStorageLayout,
} from './host-layout.ts';
import { COFFRE_COMPONENT_TYPES } from './ovh-resource-types.ts';
import { datacenterSite, type HostConfig, type RegionConfig } from './region-config.ts';

/** The ordered server cannot serve as a storage host (for example, an offer without a vRack interface). */
export class HostProvisioningError extends Error {
  readonly code = 'NoVrackInterface';
  constructor(message: string) {
    super(message);
    this.name = 'HostProvisioningError';
  }
}

export interface HostArgs {
  region: RegionConfig;
  host: HostConfig;
  /** The host's position in the region, which fixes its vRack address. */
  index: number;
  vrackServiceName: pulumi.Input<string>;
}

export interface HostOutputs {
  name: string;
  datacenter: string;
  serviceName: string;
  publicAddress: string;
  privateAddress: string;
  drives: Drive[];
}

export class Host extends pulumi.ComponentResource {
  readonly server: ovh.dedicated.Server;
  readonly vrackAttachment: ovh.vrack.DedicatedServerInterface;
  readonly firewall: ovh.ip.Firewall;
  readonly firewallRules: ovh.ip.FirewallRule[];
  readonly outputs: pulumi.Output<HostOutputs>;

  constructor(name: string, args: HostArgs, opts?: pulumi.ComponentResourceOptions) {
    super(COFFRE_COMPONENT_TYPES.host, name, {}, opts);
    const { region, host } = args;
    const address = privateAddress(region.privateNetworkCidr, args.index);
    const order = orderPlan(region, host);
    this.server = new ovh.dedicated.Server(
      `${name}-server`,
      {
        displayName: `coffre ${region.name} ${host.name}`,
        ovhSubsidiary: region.ovhSubsidiary,
        plans: order.plans,
        planOptions: order.options,
        os: region.osTemplate,
        storages: systemStorageLayout(region),
        customizations: {
          hostname: host.name,
          sshKey: region.sshPublicKeys[0],
          configDriveUserData: firstBootUserData(region, host, address),
        },
        // Losing the server loses a third of some replica sets: destroying the stack must not end
        // the OVHcloud service by accident; terminating a host is a deliberate act in the manager.
        keepServiceAfterDestroy: true,
      },
      { parent: this, protect: true },
    );
    const details = ovh.getServerOutput({ serviceName: this.server.serviceName }, { parent: this });
    this.vrackAttachment = new ovh.vrack.DedicatedServerInterface(
      `${name}-vrack`,
      {
        serviceName: args.vrackServiceName,
        interfaceId: details.apply((server) => {
          const interfaceId = server.enabledVrackVnis[0];
          if (interfaceId === undefined)
            throw new Error(`server ${server.serviceName} has no vRack interface`);
          return interfaceId;
        }),
      },
      { parent: this },
    );
    const publicIp = this.server.ip;
    this.firewall = new ovh.ip.Firewall(
      `${name}-firewall`,
      { ip: pulumi.interpolate`${publicIp}/32`, ipOnFirewall: publicIp, enabled: true },
      { parent: this },
    );
    this.firewallRules = firewallRules(region).map(
      (rule) =>
        new ovh.ip.FirewallRule(
          `${name}-firewall-${rule.sequence}`,
          {
            ip: this.firewall.ip,
            ipOnFirewall: this.firewall.ipOnFirewall,
            sequence: rule.sequence,
            action: rule.action,
            protocol: rule.protocol,
            destinationPort: rule.destinationPort,
            sourcePort: rule.sourcePort,
            source: rule.source,
            tcpOption: rule.tcpOption,
          },
          { parent: this },
        ),
    );
    const hardware = ovh.dedicated.getServerSpecificationsHardwareOutput(
      { serviceName: this.server.serviceName },
      { parent: this },
    );
    // The host is ready once it is firewalled and on the vRack: its outputs wait for both.
    const ready = pulumi.all([this.vrackAttachment.id, ...this.firewallRules.map((rule) => rule.id)]);
    this.outputs = pulumi
      .all([this.server.serviceName, publicIp, hardware.diskGroups, ready])
      .apply(([serviceName, publicAddress, diskGroups]) => ({
        name: host.name,
        datacenter: datacenterSite(host.datacenter),
        serviceName,
        publicAddress,
        privateAddress: address.address,
        drives: hostDrives(diskGroups, region.systemDiskGroupId),
      }));
    this.registerOutputs({ outputs: this.outputs });
  }
}
