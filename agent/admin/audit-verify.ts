// `npm run audit:verify -- FILE [--checkpoint FILE] [--tenant ID]`: checks a tenant's audit log
// (or an auditor's export of it) for any edited, removed, inserted, reordered or cut-off record.
// Exit status 0 when the chain holds, 1 when it does not (each problem printed), 2 on bad usage.
// The checkpoint written beside the log (TENANT.checkpoint.json) is used when present.
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { verifyAuditFile } from '../objects/audit/audit-log.ts';

const usage =
  'usage: npm run audit:verify -- LOG.audit.jsonl [--checkpoint FILE.checkpoint.json] [--tenant ID]';

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse();
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    return 2;
  }
  const [logFile] = parsed.positionals;
  if (logFile === undefined || parsed.positionals.length !== 1) {
    console.error(usage);
    return 2;
  }
  const sibling = logFile.replace(/\.audit\.jsonl$/, '.checkpoint.json');
  const checkpointFile =
    parsed.values.checkpoint ?? (sibling !== logFile && existsSync(sibling) ? sibling : undefined);
  const result = await verifyAuditFile(logFile, { checkpointFile, tenantId: parsed.values.tenant });
  for (const problem of result.problems)
    console.log(`line ${problem.line}: ${problem.problem}: ${problem.detail}`);
  const checkpointNote = checkpointFile ? `, checkpoint ${checkpointFile}` : ', no checkpoint';
  console.log(
    result.ok
      ? `OK: ${result.records} records, chain intact up to record ${result.last.sequence} (${result.last.hash})${checkpointNote}`
      : `FAILED: ${result.problems.length} problem(s) in ${result.records} records${checkpointNote}`,
  );
  return result.ok ? 0 : 1;
}

function parse() {
  return parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: { checkpoint: { type: 'string' }, tenant: { type: 'string' } },
  });
}

process.exitCode = await main();
