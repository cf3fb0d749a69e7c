// Pulumi mocks for the region program: a fake OVHcloud that answers resource creations and the two
// data sources the host reads, and records every resource so tests can check types and arguments.
import * as pulumi from '@pulumi/pulumi';
import { OVH_FUNCTION_TOKENS, OVH_RESOURCE_TYPES } from '../../stacks/ovh-resource-types.ts';

export interface RecordedResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

/** A storage server as OVHcloud describes it: 2 NVMe for the system, 4 HDD for data. */
export const mockDiskGroups = [
  {
    diskGroupId: 1,
    diskType: 'NVME',
    numberOfDisks: 2,
    diskSize: { unit: 'GB', value: 960 },
    description: '',
    raidController: '',
  },
  {
    diskGroupId: 2,
    diskType: 'HDD',
    numberOfDisks: 4,
    diskSize: { unit: 'TB', value: 14 },
    description: '',
    raidController: '',
  },
];

/** A fake OVHcloud: answers resource creations and data sources, and records each resource in `recorded`. */
export function ovhMocks(recorded: RecordedResource[]): pulumi.runtime.Mocks {
  let servers = 0;
  return {
    newResource(args) {
      recorded.push({ type: args.type, name: args.name, inputs: args.inputs });
      if (args.type === OVH_RESOURCE_TYPES.dedicatedServer) {
        servers += 1;
        const site = (
          args.inputs.plans as { configurations: { label: string; value: string }[] }[]
        )[0].configurations.find((item) => item.label === 'dedicated_datacenter')!.value;
        const serviceName = `ns${1000 + servers}.ip-51-68-0.eu`;
        return {
          id: serviceName,
          state: { ...args.inputs, serviceName, ip: `51.68.0.${servers}`, datacenter: `${site}3` },
        };
      }
      if (args.type === OVH_RESOURCE_TYPES.vrack) {
        return { id: 'pn-4242', state: { ...args.inputs, serviceName: 'pn-4242' } };
      }
      return { id: `${args.name}-id`, state: args.inputs };
    },
    call(args) {
      if (args.token === OVH_FUNCTION_TOKENS.getServer) {
        return {
          serviceName: args.inputs.serviceName,
          enabledVrackVnis: [`vni-${args.inputs.serviceName}`],
          vnis: [],
        };
      }
      if (args.token === OVH_FUNCTION_TOKENS.getServerHardware) {
        return { serviceName: args.inputs.serviceName, diskGroups: mockDiskGroups };
      }
      throw new Error(`unexpected call ${args.token}`);
    },
  };
}

export function installOvhMocks(): RecordedResource[] {
  const recorded: RecordedResource[] = [];
  pulumi.runtime.setMocks(ovhMocks(recorded), 'coffre', 'test', false);
  return recorded;
}

/** The value of an output once the mocks have resolved it. */
export function resolved<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => {
    output.apply((value) => {
      resolve(value);
      return value;
    });
  });
}
