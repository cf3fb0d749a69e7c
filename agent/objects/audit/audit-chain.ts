// The audit log's record format and hash chain, with no I/O: each record carries the SHA-256 of
// the record before it and its own, over a canonical JSON form, so editing, removing, inserting or
// reordering any record breaks the chain at that point, and a durable checkpoint (the sequence and
// hash of a record known to exist) reveals a log truncated after it.
import { createHash } from 'node:crypto';

export const auditRecordFormat = 'coffre.audit.v1';
/** The previous hash of a log's first record. */
export const genesisHash = '0'.repeat(64);

/** What the protocol layer knows about one request that changed something or was refused. */
export interface AuditEvent {
  atMs: number;
  tenantId: string;
  /** Who: the access key and its role (empty for an unauthenticated request). */
  accessKeyId: string;
  role: string;
  /** From where: the peer address, and the request id returned to the client. */
  remoteAddress: string;
  requestId: string;
  /** What: the S3 operation (or admin call) and its target. */
  operation: string;
  bucket?: string;
  key?: string;
  versionId?: string;
  /** The result: the HTTP status and, for a refusal or failure, the error code. */
  status: number;
  errorCode?: string;
}

export interface AuditRecord extends AuditEvent {
  format: typeof auditRecordFormat;
  /** 1 for a log's first record, then +1 each. */
  sequence: number;
  previousHash: string;
  hash: string;
}

export interface AuditCheckpoint {
  tenantId: string;
  sequence: number;
  hash: string;
  atMs: number;
}

/** JSON with keys sorted at every level, so the hash does not depend on property order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, entry]) => entry !== undefined)
      .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));
    return `{${entries.map(([key, entry]) => `${JSON.stringify(key)}:${canonicalJson(entry)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function recordHash(record: Omit<AuditRecord, 'hash'>): string {
  return createHash('sha256').update(canonicalJson(record)).digest('hex');
}

/** The next record of a chain whose last record has `previous` sequence and hash. */
export function chainRecord(event: AuditEvent, previous: { sequence: number; hash: string }): AuditRecord {
  const unsealed = {
    ...event,
    format: auditRecordFormat,
    sequence: previous.sequence + 1,
    previousHash: previous.hash,
  } as const;
  return { ...unsealed, hash: recordHash(unsealed) };
}

export interface AuditProblem {
  /** 1-based line number in the log. */
  line: number;
  problem: 'unreadable' | 'edited' | 'broken-chain' | 'out-of-sequence' | 'other-tenant' | 'truncated';
  detail: string;
}

export interface AuditVerification {
  ok: boolean;
  records: number;
  last: { sequence: number; hash: string };
  problems: AuditProblem[];
}

/**
 * Checks a log, line by line: every line a record, its hash right, its previous hash the hash of
 * the line before, its sequence one more; and, given a checkpoint, that the log still holds the
 * checkpointed record (a log cut after it shows as truncated). Fed one line at a time, so a large
 * log streams through it.
 */
export class AuditChainVerifier {
  readonly #options: { tenantId?: string; checkpoint?: AuditCheckpoint };
  readonly #problems: AuditProblem[] = [];
  #previous = { sequence: 0, hash: genesisHash };
  #lineNumber = 0;
  #records = 0;
  #checkpointSeen = false;

  constructor(options: { tenantId?: string; checkpoint?: AuditCheckpoint } = {}) {
    this.#options = options;
  }

  push(line: string): void {
    this.#lineNumber += 1;
    if (line === '') return;
    const problem = (kind: AuditProblem['problem'], detail: string) =>
      this.#problems.push({ line: this.#lineNumber, problem: kind, detail });
    let record: AuditRecord;
    try {
      record = JSON.parse(line) as AuditRecord;
    } catch {
      problem('unreadable', 'not a JSON record (cut short?)');
      return;
    }
    this.#records += 1;
    const { hash, ...unsealed } = record;
    const previous = this.#previous;
    if (record.format !== auditRecordFormat || recordHash(unsealed) !== hash) {
      problem('edited', `record ${record.sequence}: hash mismatch`);
    }
    if (record.previousHash !== previous.hash) {
      problem(
        'broken-chain',
        `record ${record.sequence} does not follow record ${previous.sequence} (removed, inserted or reordered)`,
      );
    }
    if (record.sequence !== previous.sequence + 1) {
      problem('out-of-sequence', `sequence ${record.sequence} after ${previous.sequence}`);
    }
    if (this.#options.tenantId !== undefined && record.tenantId !== this.#options.tenantId) {
      problem('other-tenant', `tenant ${record.tenantId}`);
    }
    const checkpoint = this.#options.checkpoint;
    if (checkpoint && record.sequence === checkpoint.sequence && hash === checkpoint.hash) {
      this.#checkpointSeen = true;
    }
    this.#previous = { sequence: record.sequence, hash };
  }

  finish(): AuditVerification {
    const checkpoint = this.#options.checkpoint;
    const problems = [...this.#problems];
    if (checkpoint && !this.#checkpointSeen) {
      problems.push({
        line: this.#lineNumber,
        problem: 'truncated',
        detail: `the checkpointed record ${checkpoint.sequence} (${checkpoint.hash.slice(0, 12)}…) is missing`,
      });
    }
    return { ok: problems.length === 0, records: this.#records, last: this.#previous, problems };
  }
}

export function verifyAuditLines(
  lines: Iterable<string>,
  options: { tenantId?: string; checkpoint?: AuditCheckpoint } = {},
): AuditVerification {
  const verifier = new AuditChainVerifier(options);
  for (const line of lines) verifier.push(line);
  return verifier.finish();
}
