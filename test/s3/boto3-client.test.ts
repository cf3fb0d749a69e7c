// Requests made by boto3 (botocore's own SigV4 signer, aws-chunked uploads with its default CRC32
// trailer), captured before they are sent and given to the protocol primitives.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { parseEndpoint } from '../../agent/s3/endpoint.ts';
import { SigV4Verifier } from '../../agent/s3/sigv4.ts';
import { parseDelete, parseObjectLockConfiguration, parseRetention } from '../../agent/s3/xml.ts';
import { pythonClientsPython } from '../../scripts/test-clients.ts';
import { type CapturedRequest, serveCapturedRequest } from './captured-request.ts';

const domain = 's3.eu-west-par.coffre.example';
const credentials = { accessKeyId: 'AKIDCOFFRETEST', secretAccessKey: 'c2VjcmV0IGtleSBmb3IgdGVzdHMgb25seQ' };
const key = "backups/2026-11-29 été/日本語 + 'quotes' (1) ~!*.vbk";

interface Case {
  style: 'path' | 'virtual';
  operation: string;
  description?: string;
  request?: { method: string; url: string; headers: Record<string, string>; body: string };
  presigned?: string;
}

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'boto3-capture.py');
const cases = JSON.parse(execFileSync(pythonClientsPython, [script], { encoding: 'utf8' })) as Case[];

function captured(request: NonNullable<Case['request']>): CapturedRequest {
  const url = new URL(request.url);
  // URL normalises nothing in an https path; take the path and query exactly as boto3 wrote them.
  const afterHost = request.url.slice(request.url.indexOf('/', 'https://'.length));
  const question = afterHost.indexOf('?');
  return {
    method: request.method,
    rawPath: question === -1 ? afterHost : afterHost.slice(0, question),
    rawQuery: question === -1 ? '' : afterHost.slice(question + 1),
    headers: { host: url.host, ...request.headers },
    body: Buffer.from(request.body, 'base64'),
  };
}

for (const testCase of cases.filter((one) => one.request !== undefined)) {
  test(`boto3 ${testCase.style}-style ${testCase.operation}${testCase.description ? ` ${testCase.description}` : ''}: signature, endpoint and body accepted`, async (t) => {
    const request = captured(testCase.request!);
    const served = await serveCapturedRequest(request, credentials, domain);
    t.is(served.endpoint.operation as string, testCase.operation);
    t.like(served.endpoint, { bucket: 'veeam-repo' });
    switch (served.endpoint.operation) {
      case 'PutObject':
        t.true(served.body.length === 13_000 || served.body.length === 200_000);
        if (served.endpoint.key === key)
          t.true(served.body.equals(Buffer.from('backup block '.repeat(1000))));
        break;
      case 'ListObjectsV2':
        t.like(served.endpoint, { prefix: 'a b/été+', delimiter: '/' });
        break;
      case 'DeleteObjects':
        t.deepEqual(parseDelete(served.body.toString()).objects, [
          { key, versionId: undefined },
          { key: 'k', versionId: 'v' },
        ]);
        break;
      case 'UploadPart':
        t.like(served.endpoint, { uploadId: 'upload/1+2', partNumber: 7 });
        t.is(served.body.length, 10_000);
        break;
      case 'CopyObject':
        t.like(served.endpoint, { copySource: { bucket: 'src-bucket', key } });
        break;
      case 'PutObjectRetention':
        t.deepEqual(parseRetention(served.body.toString()), {
          mode: 'COMPLIANCE',
          retainUntilDate: new Date(Date.UTC(2030, 0, 1)),
        });
        break;
      case 'PutObjectLockConfiguration':
        t.like(parseObjectLockConfiguration(served.body.toString()), {
          defaultRetention: { mode: 'GOVERNANCE', years: 1 },
        });
        break;
      case 'HeadObject':
        t.like(served.endpoint, { key, versionId: 'v+1/2' });
        break;
      default:
        t.fail(`unexpected ${served.endpoint.operation}`);
    }
  });
}

test('boto3 presigned GetObject URLs (both styles): verified as presigned, key decoded', async (t) => {
  const presigned = cases.filter((one) => one.presigned !== undefined);
  t.is(presigned.length, 2);
  const verifier = new SigV4Verifier({
    regions: ['eu-west-par'],
    nowMs: () => Date.now(),
    lookupSecret: async () => credentials.secretAccessKey,
  });
  for (const { presigned: url } of presigned) {
    const afterHost = url!.slice(url!.indexOf('/', 'https://'.length));
    const [rawPath, rawQuery] = afterHost.split('?');
    const request = { method: 'GET', rawPath, rawQuery, headers: { host: new URL(url!).host } };
    t.is((await verifier.verify(request)).authentication, 'presigned');
    t.like(parseEndpoint(request, { baseDomains: [domain] }), {
      operation: 'GetObject',
      bucket: 'veeam-repo',
      key,
    });
  }
});
