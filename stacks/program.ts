// The Pulumi program of a region, shared by the CLI entry (stacks/main.ts, `pulumi up`) and the
// operator's Automation API deployer (stacks/deployer.ts, an inline program).
import type * as pulumi from '@pulumi/pulumi';
import { Region, type RegionOutputs } from './region.ts';
import type { RegionConfig } from './region-config.ts';

/** The stack's outputs, one key per field of RegionOutputs. */
export type RegionStackOutputs = { [Key in keyof RegionOutputs]: pulumi.Output<RegionOutputs[Key]> };

/**
 * Creates the region's resources and returns the stack outputs; throws RegionConfigError first.
 * `opts` reach the Region component (an explicit provider, transformations).
 */
export function regionProgram(
  config: RegionConfig,
  opts?: pulumi.ComponentResourceOptions,
): RegionStackOutputs {
  const region = new Region(config.name, config, opts);
  return {
    region: region.outputs.region,
    hosts: region.outputs.hosts,
    s3Endpoint: region.outputs.s3Endpoint,
    replicaSets: region.outputs.replicaSets,
    vrackServiceName: region.outputs.vrackServiceName,
  };
}
