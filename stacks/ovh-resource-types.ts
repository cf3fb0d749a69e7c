// The Pulumi type tokens of the OVHcloud resources a region creates, as @ovhcloud/pulumi-ovh registers
// them (test/stacks checks them against the real classes). The policy pack matches resources on these,
// so it does not have to load the provider's SDK.
export const OVH_RESOURCE_TYPES = {
  dedicatedServer: 'ovh:Dedicated/server:Server',
  vrack: 'ovh:Vrack/vrack:Vrack',
  vrackServerInterface: 'ovh:Vrack/dedicatedServerInterface:DedicatedServerInterface',
  vrackLegacyServer: 'ovh:Vrack/dedicatedServer:DedicatedServer',
  ipFirewall: 'ovh:Ip/firewall:Firewall',
  ipFirewallRule: 'ovh:Ip/firewallRule:FirewallRule',
  dnsRecord: 'ovh:Domain/zoneRecord:ZoneRecord',
} as const;

/** The invoke (data source) tokens the host component reads. */
export const OVH_FUNCTION_TOKENS = {
  getServer: 'ovh:index/getServer:getServer',
  getServerHardware: 'ovh:Dedicated/getServerSpecificationsHardware:getServerSpecificationsHardware',
} as const;

/** The component resources of this project. */
export const COFFRE_COMPONENT_TYPES = {
  region: 'coffre:stacks:Region',
  host: 'coffre:stacks:Host',
} as const;

/** The label of a dedicated server order's configuration item that names its datacenter. */
export const ORDER_DATACENTER_LABEL = 'dedicated_datacenter';
