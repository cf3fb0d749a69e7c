// The audit log: hash-chained, append-only, per tenant; the verify command finds any edited,
// removed, reordered or truncated record, and a clean log (or its export) verifies.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import test, { type ExecutionContext } from 'ava';
import type { AuditEvent } from '../../agent/objects/audit/audit-chain.ts';
import { AuditLog, verifyAuditFile } from '../../agent/objects/audit/audit-log.ts';
import { repositoryRoot } from '../support/agent-process.ts';

const run = promisify(execFile);

function event(index: number, tenantId = 'acme'): AuditEvent {
  return {
    atMs: Date.UTC(2026, 3, 1) + index * 1000,
    tenantId,
    accessKeyId: 'CFBACKUPKEY0000000',
    role: 'write-only',
    remoteAddress: '192.0.2.10',
    requestId: `REQ${index}`,
    operation: index % 3 === 0 ? 'DeleteObject' : 'PutObject',
    bucket: 'backups',
    key: `file-${index}`,
    status: index % 3 === 0 ? 403 : 200,
    errorCode: index % 3 === 0 ? 'AccessDenied' : undefined,
  };
}

async function writtenLog(t: ExecutionContext, count = 10, checkpointEvery = 4) {
  const directory = await mkdtemp(path.join(tmpdir(), 'coffre-audit-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  const log = new AuditLog({ directory, checkpointEvery });
  // Appended together: they share writes and fsyncs but keep their order.
  await Promise.all(Array.from({ length: count }, (_, index) => log.append(event(index + 1))));
  await log.close();
  return { directory, log, paths: log.paths('acme') };
}

async function verifyCommand(file: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await run(process.execPath, [
      path.join(repositoryRoot, 'agent/admin/audit-verify.ts'),
      file,
    ]);
    return { code: 0, output: stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, output: failed.stdout };
  }
}

async function editLines(file: string, change: (lines: string[]) => string[]): Promise<void> {
  const lines = (await readFile(file, 'utf8')).split('\n').filter((line) => line !== '');
  await writeFile(file, `${change(lines).join('\n')}\n`);
}

test('audit log: records are chained in order, one file per tenant, and a clean log verifies (command exit 0)', async (t) => {
  const { paths, directory } = await writtenLog(t);
  const records = (await readFile(paths.log, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  t.deepEqual(
    records.map((record) => record.sequence),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
  );
  t.is(records[1].previousHash, records[0].hash);
  // Read-only on disk: only the agent's open descriptor appends.
  t.is((await stat(paths.log)).mode & 0o777, 0o440);
  t.like(records[2], {
    operation: 'DeleteObject',
    status: 403,
    errorCode: 'AccessDenied',
    remoteAddress: '192.0.2.10',
  });
  const other = new AuditLog({ directory });
  await other.append(event(1, 'globex'));
  await other.close();
  t.not(other.paths('globex').log, paths.log);
  const { code, output } = await verifyCommand(paths.log);
  t.is(code, 0);
  t.regex(output, /OK: 10 records/);
});

test('audit log: reopening continues the chain after the last record', async (t) => {
  const { directory, paths } = await writtenLog(t, 3);
  const again = new AuditLog({ directory });
  const record = await again.append(event(4));
  await again.close();
  t.is(record.sequence, 4);
  t.true((await verifyAuditFile(paths.log, { checkpointFile: paths.checkpoint })).ok);
});

const tampering: [string, (lines: string[]) => string[], RegExp][] = [
  [
    'an edited record',
    (lines) =>
      lines.map((line, index) => (index === 4 ? line.replace('"status":200', '"status":204') : line)),
    /line 5: edited/,
  ],
  ['a removed record', (lines) => lines.filter((_, index) => index !== 3), /line 4: broken-chain/],
  [
    'two records swapped',
    (lines) => [...lines.slice(0, 2), lines[3], lines[2], ...lines.slice(4)],
    /line 3: broken-chain/,
  ],
  ['the last records cut off (truncated before the checkpoint)', (lines) => lines.slice(0, 6), /truncated/],
  [
    'a record cut in the middle',
    (lines) => [...lines.slice(0, 9), lines[9].slice(0, 40)],
    /line 10: unreadable/,
  ],
];

for (const [what, change, expected] of tampering) {
  test(`audit verify: ${what} is detected (command exit 1)`, async (t) => {
    const { paths } = await writtenLog(t, 10, 4);
    await editLines(paths.log, change);
    const { code, output } = await verifyCommand(paths.log);
    t.is(code, 1);
    t.regex(output, expected);
    t.regex(output, /FAILED/);
  });
}

test('audit export: the JSON lines of a time range, exactly as stored, and an export of the whole log verifies', async (t) => {
  const { directory, paths } = await writtenLog(t, 6);
  const log = new AuditLog({ directory });
  const all: string[] = [];
  for await (const line of log.exportLines('acme')) all.push(line);
  t.is(all.length, 6);
  const some: string[] = [];
  for await (const line of log.exportLines('acme', {
    fromMs: Date.UTC(2026, 3, 1) + 2000,
    toMs: Date.UTC(2026, 3, 1) + 4000,
  })) {
    some.push(line);
  }
  t.deepEqual(
    some.map((line) => JSON.parse(line).sequence),
    [2, 3],
  );
  const exported = path.join(directory, 'export.jsonl');
  await writeFile(exported, `${all.join('\n')}\n`);
  t.true((await verifyAuditFile(exported)).ok);
  t.true((await log.verify('acme')).ok);
  t.is((await readFile(paths.log, 'utf8')).trim(), all.join('\n'));
});
