// The per-tenant audit logs: one append-only file of hash-chained JSON lines per tenant
// (audit-chain.ts), in the agent's data directory. An append resolves once its line is durable;
// appends arriving together share one durable write (O_DSYNC). Every `checkpointEvery` records, and
// `checkpointIntervalMs` after any record not yet covered, a checkpoint (the last sequence and
// hash) is replaced atomically and durably beside the log, so a log cut short after it is detected. The agent never rewrites or deletes a log: there is no call
// for it; exports stream the lines as they are, for an auditor to verify with the same command.
import { constants, createReadStream } from 'node:fs';
import { chmod, type FileHandle, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import {
  AuditChainVerifier,
  type AuditCheckpoint,
  type AuditEvent,
  type AuditRecord,
  type AuditVerification,
  chainRecord,
  genesisHash,
} from './audit-chain.ts';

export interface AuditLogOptions {
  directory: string;
  /** Records between two checkpoints (default 100). */
  checkpointEvery?: number;
  /** The longest a record stays without a checkpoint covering it (default 5 s). */
  checkpointIntervalMs?: number;
}

interface TenantLog {
  handle: FileHandle;
  last: { sequence: number; hash: string };
  sinceCheckpoint: number;
  /** Checkpoints of one log are written one after the other (they share a temporary file). */
  checkpointing: Promise<void>;
  /** A checkpoint waits behind the one running: another would cover nothing more. */
  checkpointQueued: boolean;
  checkpointTimer: NodeJS.Timeout | null;
  pending: { event: AuditEvent; settle: (outcome: AuditRecord | Error) => void }[];
  flushing: Promise<void> | null;
}

/** Audit files are read-only once created (the chain, not the mode, is what proves them intact). */
const logFileMode = 0o440;

/** The tail read at open to find a log's last record: far more than one record. */
const tailBytes = 64 * 1024;

export class AuditLog {
  readonly #directory: string;
  readonly #checkpointEvery: number;
  readonly #checkpointIntervalMs: number;
  readonly #tenants = new Map<string, Promise<TenantLog>>();
  /** The logs' directory, opened at the first checkpoint, to fsync after each rename. */
  #directoryHandle: Promise<FileHandle> | null = null;

  constructor(options: AuditLogOptions) {
    this.#directory = options.directory;
    this.#checkpointEvery = options.checkpointEvery ?? 100;
    this.#checkpointIntervalMs = options.checkpointIntervalMs ?? 5000;
  }

  /** The log and checkpoint files of a tenant (the id is URI-encoded into a file name). */
  paths(tenantId: string): { log: string; checkpoint: string } {
    const base = path.join(this.#directory, encodeURIComponent(tenantId).replaceAll('.', '%2E'));
    return { log: `${base}.audit.jsonl`, checkpoint: `${base}.checkpoint.json` };
  }

  /** Appends one record to the tenant's log; resolves with it once it is on stable storage. */
  append(event: AuditEvent): Promise<AuditRecord> {
    return new Promise((resolve, reject) => {
      const settle = (outcome: AuditRecord | Error) =>
        outcome instanceof Error ? reject(outcome) : resolve(outcome);
      this.#tenant(event.tenantId).then((log) => {
        log.pending.push({ event, settle });
        if (log.flushing === null) log.flushing = this.#flush(event.tenantId, log);
      }, reject);
    });
  }

  async #flush(tenantId: string, log: TenantLog): Promise<void> {
    // Let the appends of this turn of the event loop join the batch.
    await new Promise((resolve) => setImmediate(resolve));
    while (log.pending.length > 0) {
      const batch = log.pending.splice(0);
      const records: AuditRecord[] = [];
      let last = log.last;
      for (const entry of batch) {
        const record = chainRecord(entry.event, last);
        records.push(record);
        last = record;
      }
      try {
        // Durable when it returns: the log is open with O_DSYNC.
        await log.handle.write(records.map((record) => `${JSON.stringify(record)}\n`).join(''));
      } catch (error) {
        // The chain head does not move: the next append follows the last record known to be written.
        for (const entry of batch) entry.settle(error as Error);
        continue;
      }
      log.last = { sequence: last.sequence, hash: last.hash };
      log.sinceCheckpoint += records.length;
      // The records are durable already: they are settled without waiting for the checkpoint (two
      // fsyncs and a rename), which runs beside the next batches, chained after its predecessor.
      if (log.sinceCheckpoint >= this.#checkpointEvery) void this.#scheduleCheckpoint(tenantId, log);
      else if (log.checkpointTimer === null) {
        log.checkpointTimer = setTimeout(
          () => void this.#scheduleCheckpoint(tenantId, log),
          this.#checkpointIntervalMs,
        );
        log.checkpointTimer.unref();
      }
      for (const [index, entry] of batch.entries()) entry.settle(records[index]);
    }
    log.flushing = null;
  }

  /** The records are durable already: a failed checkpoint is only retried with the next records. */
  #scheduleCheckpoint(tenantId: string, log: TenantLog): Promise<void> {
    if (log.checkpointTimer !== null) clearTimeout(log.checkpointTimer);
    log.checkpointTimer = null;
    // Under a steady load every batch crosses the threshold again while a checkpoint runs: one
    // running and one waiting is enough (the waiting one covers everything written until it starts).
    if (log.checkpointQueued) return log.checkpointing;
    log.checkpointQueued = true;
    log.checkpointing = log.checkpointing
      .then(() => {
        log.checkpointQueued = false;
        return this.#checkpoint(tenantId, log);
      })
      .catch(() => {});
    return log.checkpointing;
  }

  async #checkpoint(tenantId: string, log: TenantLog): Promise<void> {
    const covered = { ...log.last };
    const covering = log.sinceCheckpoint;
    const checkpoint: AuditCheckpoint = { tenantId, ...covered, atMs: Date.now() };
    const file = this.paths(tenantId).checkpoint;
    const temporary = `${file}.tmp`;
    // A temporary file left by a crash is read-only like the rest: it goes first.
    await rm(temporary, { force: true });
    // O_DSYNC: the write returns durable (one trip to the thread pool, not a write and an fsync).
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_DSYNC;
    const handle = await open(temporary, flags, logFileMode);
    try {
      await handle.writeFile(`${JSON.stringify(checkpoint)}\n`);
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
    // The rename is durable once the directory is: its handle stays open for the next checkpoints
    // (one every `checkpointEvery` records: several a second under a load of small writes).
    this.#directoryHandle ??= open(this.#directory, 'r').catch((error: unknown) => {
      this.#directoryHandle = null;
      throw error;
    });
    await (await this.#directoryHandle).sync();
    // Records appended while it was written count towards the next one.
    log.sinceCheckpoint -= covering;
  }

  /** Writes a checkpoint for every open log now (at shutdown). */
  async checkpointAll(): Promise<void> {
    for (const [tenantId, opening] of this.#tenants) {
      const log = await opening;
      await log.flushing;
      if (log.last.sequence > 0) await this.#scheduleCheckpoint(tenantId, log);
    }
  }

  #tenant(tenantId: string): Promise<TenantLog> {
    let opening = this.#tenants.get(tenantId);
    if (opening === undefined) {
      opening = this.#openTenant(tenantId);
      this.#tenants.set(tenantId, opening);
      opening.catch(() => this.#tenants.delete(tenantId));
    }
    return opening;
  }

  async #openTenant(tenantId: string): Promise<TenantLog> {
    await mkdir(this.#directory, { recursive: true });
    const file = this.paths(tenantId).log;
    // The file is read-only between runs: the owner may reopen it for appending, then it is
    // read-only again for everyone, even the agent's own user; only this descriptor appends.
    await chmod(file, 0o640).catch((error: unknown) => {
      if ((error as { code?: unknown }).code !== 'ENOENT') throw error;
    });
    // 'a+' with O_DSYNC: an append returns once its bytes and the file's size are durable (the
    // guarantee of write + fdatasync, in one trip to the thread pool).
    const handle = await open(
      file,
      constants.O_RDWR | constants.O_CREAT | constants.O_APPEND | constants.O_DSYNC,
      logFileMode,
    );
    await handle.chmod(logFileMode);
    const { size } = await handle.stat();
    const start = Math.max(0, size - tailBytes);
    const tail = Buffer.alloc(size - start);
    await handle.read(tail, 0, tail.length, start);
    const text = tail.toString('utf8');
    const complete = text.lastIndexOf('\n');
    if (complete !== text.length - 1) {
      // A line cut short by a crash was never acknowledged (appends resolve once durable): it is
      // not a record, and the chain goes on from the last complete one.
      await handle.truncate(start + Buffer.byteLength(text.slice(0, complete + 1)));
    }
    const lines = text.slice(0, complete).split('\n');
    const lastLine = lines.at(-1);
    let last = { sequence: 0, hash: genesisHash };
    if (lastLine) {
      const record = JSON.parse(lastLine) as AuditRecord;
      last = { sequence: record.sequence, hash: record.hash };
    }
    return {
      handle,
      last,
      sinceCheckpoint: 0,
      pending: [],
      flushing: null,
      checkpointing: Promise.resolve(),
      checkpointQueued: false,
      checkpointTimer: null,
    };
  }

  /** The tenant's records as JSON lines, exactly as stored (an export for an auditor). */
  async *exportLines(
    tenantId: string,
    range: { fromMs?: number; toMs?: number } = {},
  ): AsyncIterable<string> {
    const opening = this.#tenants.get(tenantId);
    if (opening) await (await opening).flushing;
    const lines = createInterface({ input: createReadStream(this.paths(tenantId).log), crlfDelay: Infinity });
    try {
      for await (const line of lines) {
        if (line === '') continue;
        if (range.fromMs !== undefined || range.toMs !== undefined) {
          const atMs = (JSON.parse(line) as AuditRecord).atMs;
          if (atMs < (range.fromMs ?? 0) || atMs >= (range.toMs ?? Number.POSITIVE_INFINITY)) continue;
        }
        yield line;
      }
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ENOENT') throw error;
    }
  }

  /**
   * Checks the tenant's log against its chain and its checkpoint, and also against `anchor` (a
   * record the caller saw earlier, kept elsewhere) when given.
   */
  async verify(tenantId: string, anchor?: { sequence: number; hash: string }): Promise<AuditVerification> {
    const paths = this.paths(tenantId);
    const local = await verifyAuditFile(paths.log, { checkpointFile: paths.checkpoint, tenantId });
    if (anchor === undefined) return local;
    const anchored = await verifyAuditFile(paths.log, {
      tenantId,
      checkpoint: { tenantId, ...anchor, atMs: 0 },
    });
    const problems = [
      ...local.problems,
      ...anchored.problems.filter((problem) => problem.problem === 'truncated'),
    ];
    return { ...local, ok: problems.length === 0, problems };
  }

  async close(): Promise<void> {
    await this.checkpointAll();
    for (const opening of this.#tenants.values()) await (await opening).handle.close();
    const directory = this.#directoryHandle;
    this.#directoryHandle = null;
    await (await directory?.catch(() => null))?.close();
    this.#tenants.clear();
  }
}

/** Verifies a log file, streaming; with its checkpoint file when there is one. */
export async function verifyAuditFile(
  logFile: string,
  options: { checkpointFile?: string; checkpoint?: AuditCheckpoint; tenantId?: string } = {},
): Promise<AuditVerification> {
  let checkpoint = options.checkpoint;
  if (options.checkpointFile) {
    try {
      checkpoint = JSON.parse(await readFile(options.checkpointFile, 'utf8')) as AuditCheckpoint;
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ENOENT') throw error;
    }
  }
  const verifier = new AuditChainVerifier({ tenantId: options.tenantId, checkpoint });
  const lines = createInterface({ input: createReadStream(logFile), crlfDelay: Infinity });
  for await (const line of lines) verifier.push(line);
  return verifier.finish();
}
