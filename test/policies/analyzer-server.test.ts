// The policy pack as the Pulumi engine runs it: Pulumi's own policy-pack runner
// (`@pulumi/pulumi/cmd/run-policy-pack <engine> <pack>`, what `pulumi-analyzer-policy` starts for
// `pulumi preview --policy-pack policies`) loads `policies/`, which serves the analyzer gRPC
// protocol on 127.0.0.1 and prints its port; the test then calls it as the engine would
// (GetAnalyzerInfo, Analyze, AnalyzeStack). Only the engine itself is missing: no Pulumi CLI here.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import path from 'node:path';
import test from 'ava';
import { OVH_RESOURCE_TYPES } from '../../stacks/ovh-resource-types.ts';

const require = createRequire(import.meta.url);
const analyzerProto =
  require('@pulumi/pulumi/proto/analyzer_pb.js') as typeof import('@pulumi/pulumi/proto/analyzer_pb.js');
const analyzerGrpc =
  require('@pulumi/pulumi/proto/analyzer_grpc_pb.js') as typeof import('@pulumi/pulumi/proto/analyzer_grpc_pb.js');
const { Struct } =
  require('google-protobuf/google/protobuf/struct_pb.js') as typeof import('google-protobuf/google/protobuf/struct_pb.js');
const { Empty } =
  require('google-protobuf/google/protobuf/empty_pb.js') as typeof import('google-protobuf/google/protobuf/empty_pb.js');
// The same gRPC library the policy server uses.
const grpc = createRequire(require.resolve('@pulumi/policy'))(
  '@grpc/grpc-js',
) as typeof import('@grpc/grpc-js');

const policiesDirectory = path.resolve(import.meta.dirname, '../../policies');
const policyPackRunner = require.resolve('@pulumi/pulumi/cmd/run-policy-pack');

type Props = Record<string, unknown>;
interface StackResource {
  type: string;
  name: string;
  props: Props;
  parent?: string;
}

async function startPack(): Promise<{
  child: ChildProcess;
  client: InstanceType<typeof analyzerGrpc.AnalyzerClient>;
}> {
  // The engine address is only used for log messages, which these calls do not send.
  const child = spawn(process.execPath, [policyPackRunner, '127.0.0.1:1', policiesDirectory], {
    cwd: policiesDirectory,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  const port = Number.parseInt(chunk.toString('utf8').trim(), 10);
  const client = new analyzerGrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return { child, client };
}

function stop(child: ChildProcess): void {
  if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGTERM');
}

const urnOf = (resource: StackResource) =>
  resource.type === 'coffre:stacks:Host'
    ? `urn:pulumi:fr-par::coffre::coffre:stacks:Host::${resource.name}`
    : `urn:pulumi:fr-par::coffre::coffre:stacks:Host$${resource.type}::${resource.name}`;

function analyzerResource(resource: StackResource) {
  const message = new analyzerProto.AnalyzerResource();
  message.setType(resource.type);
  message.setName(resource.name);
  message.setUrn(urnOf(resource));
  message.setProperties(Struct.fromJavaScript(resource.props as Parameters<typeof Struct.fromJavaScript>[0]));
  message.setOptions(new analyzerProto.AnalyzerResourceOptions());
  if (resource.parent) message.setParent(resource.parent);
  return message;
}

/** `policy: violation` lines; the server puts the policy's description on a first line, dropped here. */
function diagnostics(response: InstanceType<typeof analyzerProto.AnalyzeResponse>) {
  return response
    .getDiagnosticsList()
    .map((diagnostic) => `${diagnostic.getPolicyname()}: ${diagnostic.getMessage().split('\n').at(-1)}`);
}

function unary<Request, Response>(
  call: (request: Request, callback: (error: Error | null, response: Response) => void) => unknown,
  request: Request,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    call(request, (error, response) => (error ? reject(error) : resolve(response)));
  });
}

/** A host of the region as the program builds it: server, firewall, deny-all rule, vRack attachment. */
function host(name: string, datacenter: string): StackResource[] {
  const component = `urn:pulumi:fr-par::coffre::coffre:stacks:Host::${name}`;
  return [
    { type: 'coffre:stacks:Host', name, props: {} },
    {
      type: OVH_RESOURCE_TYPES.dedicatedServer,
      name: `${name}-server`,
      parent: component,
      props: {
        os: 'debian12_64',
        plans: [{ configurations: [{ label: 'dedicated_datacenter', value: datacenter }] }],
      },
    },
    {
      type: OVH_RESOURCE_TYPES.ipFirewall,
      name: `${name}-firewall`,
      parent: component,
      props: { enabled: true },
    },
    {
      type: OVH_RESOURCE_TYPES.ipFirewallRule,
      name: `${name}-firewall-19`,
      parent: component,
      props: { sequence: 19, action: 'deny', protocol: 'ipv4' },
    },
    {
      type: OVH_RESOURCE_TYPES.vrackServerInterface,
      name: `${name}-vrack`,
      parent: component,
      props: { serviceName: 'pn-4242', interfaceId: 'vni-1' },
    },
  ];
}

test('analyzer: the pack serves its name and its five policies over the engine protocol', async (t) => {
  const { child, client } = await startPack();
  try {
    const info = await unary<InstanceType<typeof Empty>, InstanceType<typeof analyzerProto.AnalyzerInfo>>(
      client.getAnalyzerInfo.bind(client),
      new Empty(),
    );
    t.is(info.getName(), 'coffre-sovereignty');
    t.deepEqual(
      info
        .getPoliciesList()
        .map((policy) => policy.getName())
        .sort(),
      [
        'approved-os-templates',
        'hosts-firewalled-and-on-vrack',
        'no-admin-port-on-internet',
        'region-spread',
        'servers-in-french-datacenters',
      ],
    );
  } finally {
    client.close();
    stop(child);
  }
});

test('analyzer: a server ordered in Frankfurt is a mandatory violation at preview', async (t) => {
  const { child, client } = await startPack();
  try {
    const [, server] = host('fra-1', 'fra');
    const request = new analyzerProto.AnalyzeRequest();
    request.setType(server.type);
    request.setName(server.name);
    request.setUrn(urnOf(server));
    request.setProperties(Struct.fromJavaScript(server.props as Parameters<typeof Struct.fromJavaScript>[0]));
    request.setOptions(new analyzerProto.AnalyzerResourceOptions());
    const response = await unary<
      InstanceType<typeof analyzerProto.AnalyzeRequest>,
      InstanceType<typeof analyzerProto.AnalyzeResponse>
    >(client.analyze.bind(client), request);
    t.deepEqual(diagnostics(response), [
      'servers-in-french-datacenters: datacenter fra is not in France (allowed: gra, rbx, sbg, par): data must stay in France',
    ]);
    t.is(response.getDiagnosticsList()[0].getEnforcementlevel(), analyzerProto.EnforcementLevel.MANDATORY);
  } finally {
    client.close();
    stop(child);
  }
});

test('analyzer: a 3-datacenter region passes the stack policies; 2 hosts do not', async (t) => {
  const { child, client } = await startPack();
  try {
    const analyze = async (resources: StackResource[]) => {
      const request = new analyzerProto.AnalyzeStackRequest();
      request.setResourcesList(resources.map(analyzerResource));
      return diagnostics(
        await unary<
          InstanceType<typeof analyzerProto.AnalyzeStackRequest>,
          InstanceType<typeof analyzerProto.AnalyzeResponse>
        >(client.analyzeStack.bind(client), request),
      );
    };
    t.deepEqual(
      await analyze([...host('par-1', 'par'), ...host('gra-1', 'gra'), ...host('rbx-1', 'rbx')]),
      [],
    );
    const small = await analyze([...host('gra-1', 'gra'), ...host('rbx-1', 'rbx')]);
    t.true(
      small.some((line) => /^region-spread: 2 hosts; a region needs at least 3/.test(line)),
      small.join('\n'),
    );
  } finally {
    client.close();
    stop(child);
  }
});
