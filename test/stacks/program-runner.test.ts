// `pulumi up` without the Pulumi CLI: the CLI's Node.js language host starts Pulumi's program runner
// (`@pulumi/pulumi/cmd/run`) with the project's `main`, the stack's configuration in PULUMI_CONFIG and
// the address of the engine's resource monitor. This test does the same, with a resource monitor
// served over gRPC on 127.0.0.1 by Pulumi's MockMonitor and the fake OVHcloud of pulumi-mocks.ts, so
// the real entry (stacks/main.ts, loaded by Node.js 24 as TypeScript, its default export giving the
// stack outputs) runs as the CLI would run it.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import test from 'ava';
import { parse } from 'yaml';
import { OVH_RESOURCE_TYPES } from '../../stacks/ovh-resource-types.ts';
import { ovhMocks, type RecordedResource } from './pulumi-mocks.ts';

const require = createRequire(import.meta.url);
const resourceGrpc =
  require('@pulumi/pulumi/proto/resource_grpc_pb.js') as typeof import('@pulumi/pulumi/proto/resource_grpc_pb.js');
const resourceProto =
  require('@pulumi/pulumi/proto/resource_pb.js') as typeof import('@pulumi/pulumi/proto/resource_pb.js');
const { Empty } =
  require('google-protobuf/google/protobuf/empty_pb.js') as typeof import('google-protobuf/google/protobuf/empty_pb.js');
const { MockMonitor } =
  require('@pulumi/pulumi/runtime/mocks.js') as typeof import('@pulumi/pulumi/runtime/mocks.js');
const grpc = createRequire(require.resolve('@pulumi/pulumi'))(
  '@grpc/grpc-js',
) as typeof import('@grpc/grpc-js');

const root = path.resolve(import.meta.dirname, '../..');
const programRunner = require.resolve('@pulumi/pulumi/cmd/run');

/** Features this monitor offers the SDK: the ones MockMonitor implements over the wire. */
const supportedFeatures = new Set(['secrets', 'resourceReferences']);

type Callback = (error: Error | null, response?: unknown) => void;
interface Call {
  request: { getId(): string };
}

async function startMonitor(recorded: RecordedResource[]) {
  const monitor = new MockMonitor(ovhMocks(recorded));
  const server = new grpc.Server();
  const forward = (method: 'invoke' | 'readResource' | 'registerResource' | 'registerPackage') => {
    return (call: Call, callback: Callback) => {
      void monitor[method](call.request as never, callback as never);
    };
  };
  server.addService(resourceGrpc.ResourceMonitorService, {
    supportsFeature: (call: Call, callback: Callback) => {
      callback(
        null,
        new resourceProto.SupportsFeatureResponse().setHassupport(
          supportedFeatures.has(call.request.getId()),
        ),
      );
    },
    invoke: forward('invoke'),
    readResource: forward('readResource'),
    registerResource: forward('registerResource'),
    registerPackage: forward('registerPackage'),
    registerResourceOutputs: (call: Call, callback: Callback) => {
      monitor.registerResourceOutputs(call.request as never, (error: Error | null) =>
        error ? callback(error) : callback(null, new Empty()),
      );
    },
  } as never);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, boundPort) =>
      error ? reject(error) : resolve(boundPort),
    );
  });
  return { monitor, server, port };
}

test('program runner: stacks/main.ts with Pulumi.fr-par.yaml deploys 3 hosts and exports the region outputs', async (t) => {
  // MockMonitor names resources after this process's Pulumi settings: the same project and stack.
  await pulumi.runtime.setMocks(ovhMocks([]), 'coffre', 'fr-par', false);
  const recorded: RecordedResource[] = [];
  const { monitor, server, port } = await startMonitor(recorded);
  try {
    const project = parse(readFileSync(path.join(root, 'Pulumi.yaml'), 'utf8')) as {
      main: string;
      stackConfigDir: string;
    };
    const stack = parse(
      readFileSync(path.join(root, project.stackConfigDir, 'Pulumi.fr-par.yaml'), 'utf8'),
    ) as {
      config: Record<string, unknown>;
    };
    // The language host passes configuration as strings; structured values as JSON.
    const config = Object.fromEntries(
      Object.entries(stack.config).map(([key, value]) => [
        key,
        typeof value === 'string' ? value : JSON.stringify(value),
      ]),
    );
    const child = spawn(
      process.execPath,
      [
        programRunner,
        `--monitor=127.0.0.1:${port}`,
        '--project=coffre',
        '--stack=fr-par',
        `--pwd=${root}`,
        project.main,
      ],
      {
        cwd: root,
        env: { ...process.env, PULUMI_CONFIG: JSON.stringify(config), PULUMI_NODEJS_TYPESCRIPT: 'false' },
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
    const [exitCode] = (await once(child, 'exit')) as [number | null];
    t.is(exitCode, 0);

    t.is(recorded.filter((resource) => resource.type === OVH_RESOURCE_TYPES.dedicatedServer).length, 3);
    t.is(recorded.filter((resource) => resource.type === OVH_RESOURCE_TYPES.ipFirewallRule).length, 3 * 7);
    const stackResource = [...monitor.resources.values()].find((resource) =>
      resource.urn.includes('::pulumi:pulumi:Stack::'),
    );
    t.truthy(stackResource);
    const outputs = pulumi.runtime.deserializeProperties(stackResource!.state as never) as Record<
      string,
      unknown
    >;
    t.deepEqual(Object.keys(outputs).sort(), [
      'hosts',
      'region',
      'replicaSets',
      's3Endpoint',
      'vrackServiceName',
    ]);
    t.is(outputs.region, 'fr-par');
    t.is(outputs.vrackServiceName, 'pn-4242');
    t.deepEqual(
      (outputs.hosts as { name: string; privateAddress: string }[]).map(
        (host) => `${host.name} ${host.privateAddress}`,
      ),
      ['par-1 10.42.0.1', 'gra-1 10.42.0.2', 'rbx-1 10.42.0.3'],
    );
    t.regex(String(outputs.s3Endpoint), /^https:\/\/51\.68\.0\.\d+$/);
  } finally {
    server.forceShutdown();
  }
});
