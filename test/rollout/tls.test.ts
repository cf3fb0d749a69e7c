import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import test from 'ava';
import { buildAgentBundle } from '../../operator/bundle/build.ts';
import { tlsFiles } from '../../operator/rollout/agent-config.ts';
import { s3HealthCheck } from '../../operator/rollout/health.ts';
import { rolloutRegion } from '../../operator/rollout/rollout.ts';
import { pidfileServiceManager } from '../../operator/rollout/service-manager.ts';
import { repositoryRoot } from '../support/agent-process.ts';
import {
  adminCredentials,
  removeDirectory,
  startTestHosts,
  stopTestHost,
  type TestHost,
} from './region-fixture.ts';

let directory: string;
let hosts: TestHost[] = [];

test.after.always(async () => {
  for (const host of hosts) await stopTestHost(host);
  if (directory) removeDirectory(directory);
});

/** A self-signed certificate for 127.0.0.1, standing in for the region's CA. */
function selfSignedCertificate(into: string): { certificatePem: string; privateKeyPem: string } {
  const certificateFile = path.join(into, 'agent.crt');
  const privateKeyFile = path.join(into, 'agent.key');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=coffre-rollout-test',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      privateKeyFile,
      '-out',
      certificateFile,
    ],
    { stdio: 'ignore' },
  );
  return {
    certificatePem: readFileSync(certificateFile, 'utf8'),
    privateKeyPem: readFileSync(privateKeyFile, 'utf8'),
  };
}

test('TLS: the rollout installs the certificate and key, and the deployed agent serves S3 over HTTPS', async (t) => {
  directory = mkdtempSync(path.join(os.tmpdir(), 'coffre-rollout-tls-'));
  const started = await startTestHosts(directory, ['secure']);
  hosts = started.hosts;
  const host = hosts[0];
  const tls = selfSignedCertificate(directory);
  const spec = {
    ...host.spec,
    endpoint: host.spec.endpoint.replace('http:', 'https:'),
    agent: { ...host.spec.agent, tls },
  };
  const healthCheck = s3HealthCheck({
    credentials: adminCredentials,
    trustedCertificatePem: tls.certificatePem,
  });
  const result = await rolloutRegion(
    {
      region: 'fr-par',
      hosts: [spec],
      replicaSets: [],
      bundle: await buildAgentBundle({ repositoryRoot }),
      adminCredentials,
      sshCredentials: { privateKey: started.privateKey },
    },
    { serviceManager: pidfileServiceManager(), healthCheck, log: () => {} },
  );
  t.is(result.outcome, 'completed', JSON.stringify(result.failure));
  const files = tlsFiles(host.layout);
  t.is(readFileSync(files.certificateFile, 'utf8'), tls.certificatePem);
  t.is(statSync(files.privateKeyFile).mode & 0o777, 0o640);
  const client = new S3Client({
    endpoint: spec.endpoint,
    region: 'fr-par',
    forcePathStyle: true,
    credentials: adminCredentials,
    requestHandler: new NodeHttpHandler({ httpsAgent: new https.Agent({ ca: tls.certificatePem }) }),
  });
  try {
    const answer = await client.send(new ListBucketsCommand({}));
    t.is(answer.$metadata.httpStatusCode, 200);
  } finally {
    client.destroy();
  }
  // Without the region's CA, the agent's certificate is not trusted: the check says so.
  const untrusting = await s3HealthCheck({ credentials: adminCredentials })({
    name: 'secure',
    endpoint: spec.endpoint,
  });
  t.false(untrusting.healthy);
});
