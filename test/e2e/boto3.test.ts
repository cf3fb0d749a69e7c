// boto3 (current release, default checksums on) against the real agent: the Python script in
// python/boto3_suite.py drives put_object, upload_file with a small multipart threshold,
// download_file, the list_objects_v2 paginator, copy_object, delete_objects and head_object with
// ChecksumMode, and prints what it saw as JSON; this file asserts on it.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import anyTest, { type TestFn } from 'ava';
import { pythonClientsPython } from '../../scripts/test-clients.ts';
import { type AgentProcess, repositoryRoot, startAgent } from '../support/agent-process.ts';

interface ErrorSeen {
  code: string;
  status: number;
}

interface Boto3Results {
  put: { etag: string; md5: string; crc32: string | null };
  head: {
    length: number;
    contentType: string;
    metadata: Record<string, string>;
    crc32: string | null;
    etag: string;
  };
  getEqual: boolean;
  multipart: {
    etag: string;
    length: number;
    sourceSha256: string;
    downloadSha256: string;
    checksumType: string | null;
  };
  listing: { keys: string[]; pages: number; expected: string[] };
  copy: {
    bodyEqual: boolean;
    copiedMetadata: Record<string, string>;
    replacedMetadata: Record<string, string>;
    replacedContentType: string;
    selfCopy: ErrorSeen | null;
  };
  deleteObjects: { deleted: string[]; errors: unknown[]; remaining: number };
  missing: ErrorSeen | null;
  missingHead: ErrorSeen | null;
}

const test = anyTest as TestFn<{ agent: AgentProcess; results: Boto3Results }>;

function runScript(
  script: string,
  scriptArguments: string[],
  environment: NodeJS.ProcessEnv,
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      pythonClientsPython,
      [script, ...scriptArguments],
      { env: environment, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)),
    );
  });
}

test.before(async (t) => {
  const agent = await startAgent();
  const work = mkdtempSync(path.join(os.tmpdir(), 'coffre-boto3-'));
  try {
    const stdout = await runScript(
      path.join(repositoryRoot, 'test', 'e2e', 'python', 'boto3_suite.py'),
      [agent.endpoint, agent.accessKeyId, agent.secretAccessKey, 'boto3-suite', work],
      // No ~/.aws is read: every setting is in the script's arguments.
      {
        PATH: process.env.PATH,
        HOME: work,
        AWS_CONFIG_FILE: path.join(work, 'config'),
        AWS_SHARED_CREDENTIALS_FILE: path.join(work, 'credentials'),
      },
    );
    t.context = { agent, results: JSON.parse(stdout) as Boto3Results };
  } catch (error) {
    await agent.destroy();
    throw error;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test.after.always(async (t) => {
  await t.context.agent?.destroy();
});

test('boto3: put_object returns the MD5 ETag and the default CRC32, head_object with ChecksumMode returns them', (t) => {
  const { put, head, getEqual } = t.context.results;
  t.is(put.etag, `"${put.md5}"`);
  t.truthy(put.crc32);
  t.is(head.crc32, put.crc32);
  t.is(head.etag, put.etag);
  t.is(head.length, 200_000);
  t.is(head.contentType, 'application/x-test');
  t.deepEqual(head.metadata, { origin: 'boto3' });
  t.true(getEqual);
});

test('boto3: upload_file in 5 MiB parts and download_file give back the same 13 MiB', (t) => {
  const { multipart } = t.context.results;
  t.regex(multipart.etag, /^"[0-9a-f]{32}-3"$/);
  t.is(multipart.length, 13 * 1024 * 1024);
  t.is(multipart.downloadSha256, multipart.sourceSha256);
});

test('boto3: the list_objects_v2 paginator sees every key once, in order, 5 per page', (t) => {
  const { listing } = t.context.results;
  t.deepEqual(listing.keys, listing.expected);
  t.is(listing.pages, 5);
});

test('boto3: copy_object keeps or replaces metadata; a copy onto itself is InvalidRequest', (t) => {
  const { copy } = t.context.results;
  t.true(copy.bodyEqual);
  t.deepEqual(copy.copiedMetadata, { origin: 'boto3' });
  t.deepEqual(copy.replacedMetadata, { replaced: 'yes' });
  t.is(copy.replacedContentType, 'text/plain');
  t.deepEqual(copy.selfCopy, { code: 'InvalidRequest', status: 400 });
});

test('boto3: delete_objects deletes every listed key, a missing one included, without errors', (t) => {
  const { deleteObjects } = t.context.results;
  t.deepEqual(deleteObjects.deleted, [...t.context.results.listing.expected, 'list/never'].sort());
  t.deepEqual(deleteObjects.errors, []);
  t.is(deleteObjects.remaining, 0);
});

test('boto3: a missing key is NoSuchKey 404 on get_object and 404 on head_object', (t) => {
  t.deepEqual(t.context.results.missing, { code: 'NoSuchKey', status: 404 });
  t.deepEqual(t.context.results.missingHead, { code: '404', status: 404 });
});
