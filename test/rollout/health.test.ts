import http from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { isS3XmlAnswer, s3HealthCheck } from '../../operator/rollout/health.ts';
import { type AgentProcess, startAgent } from '../support/agent-process.ts';

let agent: AgentProcess;
let notS3: http.Server;
let notS3Endpoint: string;

test.before(async () => {
  agent = await startAgent();
  notS3 = http.createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end('<html><body>It works!</body></html>');
  });
  await new Promise<void>((resolve) => notS3.listen(0, '127.0.0.1', resolve));
  notS3Endpoint = `http://127.0.0.1:${(notS3.address() as AddressInfo).port}`;
});

test.after.always(async () => {
  await agent?.destroy();
  await new Promise((resolve) => notS3?.close(resolve));
});

const s3Answers: [string, string, boolean][] = [
  [
    'an S3 error',
    '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>',
    true,
  ],
  ['a bucket listing', '<ListAllMyBucketsResult><Buckets></Buckets></ListAllMyBucketsResult>', true],
  ['an HTML page', '<html><body>It works!</body></html>', false],
  ['XML that is not S3', '<status>ok</status>', false],
  ['an error without a code', '<Error><Message>no code</Message></Error>', false],
  ['not XML at all', 'SSH-2.0-OpenSSH_9.2', false],
];

for (const [what, body, expected] of s3Answers) {
  test(`S3 answer recognition: ${what} is ${expected ? '' : 'not '}an S3 answer`, (t) => {
    t.is(isS3XmlAnswer(body), expected);
  });
}

test('health: an unsigned GET / answered 403 AccessDenied by the real agent proves the S3 stack is up', async (t) => {
  const result = await s3HealthCheck()({ name: 'a', endpoint: agent.endpoint });
  t.true(result.healthy, result.detail);
  t.regex(result.detail, /403 with S3 XML/);
});

test('health: a signed ListBuckets with the agent key passes; with a wrong secret it fails', async (t) => {
  const right = { accessKeyId: agent.accessKeyId, secretAccessKey: agent.secretAccessKey };
  const passed = await s3HealthCheck({ credentials: right })({ name: 'a', endpoint: agent.endpoint });
  t.true(passed.healthy, passed.detail);
  t.regex(passed.detail, /signed ListBuckets/);
  const wrong = { ...right, secretAccessKey: `${right.secretAccessKey}x` };
  const failed = await s3HealthCheck({ credentials: wrong })({ name: 'a', endpoint: agent.endpoint });
  t.false(failed.healthy);
  t.regex(failed.detail, /SignatureDoesNotMatch/);
});

test('health: a web server that is not S3, or nothing listening, is unhealthy', async (t) => {
  t.false((await s3HealthCheck()({ name: 'a', endpoint: notS3Endpoint })).healthy);
  notS3.closeAllConnections();
  const closed = await s3HealthCheck()({ name: 'a', endpoint: 'http://127.0.0.1:1' });
  t.false(closed.healthy);
  t.regex(closed.detail, /ECONNREFUSED/);
});
