// The operator process: `node operator/main.ts --admin-endpoint URL --admin-key-file FILE`.
// Kubernetes from KUBECONFIG (or ~/.kube/config), else the in-cluster service account; the agent
// admin endpoint and key from flags or COFFRE_ADMIN_ENDPOINT / COFFRE_ADMIN_KEY(_FILE). SIGTERM and
// SIGINT stop it gracefully: reconciles in flight finish, the Lease is released (a standby takes
// over at its next try), the watches close.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { httpAgentAdmin } from './controllers/agent-admin.ts';
import { createOperator } from './controllers/operator.ts';
import { pulumiRegionDeployer, regionController } from './controllers/region-operator.ts';
import { loadKubeConfig } from './runtime/kube.ts';

const usage = `usage: node operator/main.ts --admin-endpoint URL [--admin-key-file FILE]
       [--lease-namespace NS] [--lease-name NAME] [--identity ID] [--no-leader-election]
       [--secret-namespace NS]... [--regions]
environment: KUBECONFIG, COFFRE_ADMIN_ENDPOINT, COFFRE_ADMIN_KEY, COFFRE_ADMIN_KEY_FILE, POD_NAMESPACE;
  with --regions (the Region controller: pulumi up through the Automation API, then the agent
  rollout over SSH; it needs the Pulumi CLI): OVH_* credentials and PULUMI_* state backend`;

function fail(message: string): never {
  console.error(`${message}\n${usage}`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    'admin-endpoint': { type: 'string' },
    'admin-key-file': { type: 'string' },
    'lease-namespace': { type: 'string' },
    'lease-name': { type: 'string', default: 'coffre-operator' },
    identity: { type: 'string' },
    'no-leader-election': { type: 'boolean', default: false },
    'secret-namespace': { type: 'string', multiple: true, default: [] },
    regions: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}

const endpoint = values['admin-endpoint'] ?? process.env.COFFRE_ADMIN_ENDPOINT;
if (!endpoint) fail('the agent admin endpoint is required');
const keyFile = values['admin-key-file'] ?? process.env.COFFRE_ADMIN_KEY_FILE;
const adminKey = keyFile ? readFileSync(keyFile, 'utf8').trim() : process.env.COFFRE_ADMIN_KEY;
if (!adminKey) fail('the admin key is required (--admin-key-file or COFFRE_ADMIN_KEY)');

const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);
const kubeConfig = loadKubeConfig();
// The Region controller runs in the same Manager, under the same Lease as the others.
const regions = values.regions
  ? regionController({
      kubeConfig,
      deployer: pulumiRegionDeployer(process.env),
      log,
    })
  : null;
const operator = createOperator({
  kubeConfig,
  admin: httpAgentAdmin(endpoint.replace(/\/$/, ''), adminKey),
  leaderElection: values['no-leader-election']
    ? null
    : {
        namespace: values['lease-namespace'] ?? process.env.POD_NAMESPACE ?? 'default',
        leaseName: values['lease-name'],
        identity: values.identity,
      },
  secretNamespaces: values['secret-namespace'],
  additionalControllers: regions === null ? [] : [regions.spec],
  log,
});

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping`);
  await operator.stop();
  log('stopped');
  process.exit(0);
};
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));

await operator.start();
log(
  `operator started (${values['no-leader-election'] ? 'no leader election' : `lease ${values['lease-name']}`})`,
);
