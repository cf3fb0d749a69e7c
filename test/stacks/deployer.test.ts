import test from 'ava';
import {
  deployRegion,
  PulumiRegionDeployer,
  RegionDeployError,
  type RegionDeployer,
  type RegionPreview,
  regionOutputsFromStack,
} from '../../stacks/deployer.ts';
import type { RegionOutputs } from '../../stacks/region.ts';
import { type RegionConfig, RegionConfigError } from '../../stacks/region-config.ts';
import { temporaryDirectory } from '../support/temporary-directory.ts';
import { threeDatacenterRegion } from './fixtures.ts';

const outputs: RegionOutputs = {
  region: 'fr-par',
  hosts: [
    {
      name: 'par-1',
      datacenter: 'par',
      serviceName: 'ns1001.ip-51-68-0.eu',
      publicAddress: '51.68.0.1',
      privateAddress: '10.42.0.1',
      drives: [],
    },
  ],
  s3Endpoint: 'https://51.68.0.1',
  replicaSets: [
    { id: 'gra-1+par-1+rbx-1', hosts: ['gra-1', 'par-1', 'rbx-1'], datacenters: ['gra', 'par', 'rbx'] },
  ],
  vrackServiceName: 'pn-4242',
};

/** A deployer that records what it is asked, for the operator-side logic (a unit test beside the real adapter). */
class RecordingDeployer implements RegionDeployer {
  readonly calls: string[] = [];
  previewFailure?: Error;
  async preview(config: RegionConfig): Promise<RegionPreview> {
    this.calls.push(`preview ${config.name}`);
    if (this.previewFailure) throw this.previewFailure;
    return { changes: { create: 3 } };
  }
  async up(config: RegionConfig): Promise<RegionOutputs> {
    this.calls.push(`up ${config.name}`);
    return outputs;
  }
}

test('deploy region: a valid region is previewed, then brought up, and its outputs returned', async (t) => {
  const deployer = new RecordingDeployer();
  t.deepEqual(await deployRegion(deployer, threeDatacenterRegion()), outputs);
  t.deepEqual(deployer.calls, ['preview fr-par', 'up fr-par']);
});

test('deploy region: a region outside France never reaches the deployer', async (t) => {
  const deployer = new RecordingDeployer();
  const region = threeDatacenterRegion({
    hosts: [
      { name: 'bhs-1', datacenter: 'bhs' },
      { name: 'gra-1', datacenter: 'gra' },
      { name: 'rbx-1', datacenter: 'rbx' },
    ],
  });
  await t.throwsAsync(deployRegion(deployer, region), { instanceOf: RegionConfigError });
  t.deepEqual(deployer.calls, []);
});

test('deploy region: a failed preview (a policy violation) stops before up', async (t) => {
  const deployer = new RecordingDeployer();
  deployer.previewFailure = new RegionDeployError('PreviewFailed', 'mandatory policy violated');
  await t.throwsAsync(deployRegion(deployer, threeDatacenterRegion()), {
    message: 'mandatory policy violated',
  });
  t.deepEqual(deployer.calls, ['preview fr-par']);
});

test('stack outputs: the five region outputs are read back from the Automation API output map', (t) => {
  const map = Object.fromEntries(
    Object.entries(outputs).map(([key, value]) => [key, { value, secret: false }]),
  );
  t.deepEqual(regionOutputsFromStack(map), outputs);
});

test('stack outputs: a stack without the region outputs is a typed error', (t) => {
  const error = t.throws(() => regionOutputsFromStack({ region: { value: 'fr-par', secret: false } }), {
    instanceOf: RegionDeployError,
  });
  t.is(error?.code, 'UnexpectedOutputs');
  t.regex(error?.message ?? '', /hosts, s3Endpoint, replicaSets, vrackServiceName/);
});

test('pulumi deployer: without a Pulumi CLI, preview and up fail with PulumiCliUnavailable', async (t) => {
  const emptyRoot = temporaryDirectory(t, 'coffre-no-pulumi');
  const deployer = new PulumiRegionDeployer({ environment: {}, cliRoot: emptyRoot });
  for (const operation of [
    () => deployer.preview(threeDatacenterRegion()),
    () => deployer.up(threeDatacenterRegion()),
  ]) {
    const error = await t.throwsAsync(operation(), { instanceOf: RegionDeployError });
    t.is(error?.code, 'PulumiCliUnavailable');
  }
});
