// A drive that wraps another and fails or corrupts chosen calls on demand, for fault tests (the
// idea of MinIO's naughty-disk). Probabilistic faults and the bit to flip come from a PRNG seeded
// by the test, so a failing run replays exactly from its seed.
import type {
  AppendLog,
  Drive,
  DriveEntryStat,
  DriveOperation,
  DriveSpace,
  FileWriter,
  RangeReader,
} from './drive.ts';
import { DriveError, type DriveErrorCode } from './errors.ts';

export interface FaultRule {
  /** The calls this rule applies to ('write' and 'finish' are FileWriter calls). */
  operations: DriveOperation[];
  /** Only calls whose path contains this text. */
  pathIncludes?: string;
  /** Skip this many matching calls before the rule starts to apply. */
  afterCalls?: number;
  /** Apply to at most this many calls, then the rule is spent (default: no limit). */
  times?: number;
  /** Chance in 0..1 that a matching call is hit (default 1), drawn from the seeded PRNG. */
  probability?: number;
  /**
   * `fail`: the call throws a DriveError with this code, without touching the inner drive.
   * `corrupt`: one bit of the data read (readFile, readRange, readRecord) or written (writeFile,
   * writeFileAtomic, write, append, writeRecords) is flipped.
   */
  effect: { fail: DriveErrorCode } | 'corrupt';
}

interface ActiveRule extends FaultRule {
  matched: number;
  applied: number;
}

/** mulberry32: a tiny, well-distributed 32-bit PRNG; enough for choosing faults. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

export class FaultyDrive implements Drive {
  readonly description: string;
  readonly inner: Drive;
  /** How many calls of each operation were made, faulted or not. */
  readonly calls = new Map<DriveOperation, number>();
  /** How many faults were injected. */
  faultsInjected = 0;
  readonly #random: () => number;
  #rules: ActiveRule[] = [];
  #offline = false;

  constructor(inner: Drive, options: { seed: number }) {
    this.inner = inner;
    this.description = `faulty(${inner.description})`;
    this.#random = seededRandom(options.seed);
  }

  addFault(rule: FaultRule): void {
    this.#rules.push({ ...rule, matched: 0, applied: 0 });
  }

  clearFaults(): void {
    this.#rules = [];
    this.#offline = false;
  }

  /** While offline, every call fails with DRIVE_OFFLINE. */
  setOffline(offline: boolean): void {
    this.#offline = offline;
  }

  /** Decides whether this call is hit, and how; counts the call. */
  #fault(operation: DriveOperation, path: string): FaultRule['effect'] | undefined {
    this.calls.set(operation, (this.calls.get(operation) ?? 0) + 1);
    if (this.#offline) return { fail: 'DRIVE_OFFLINE' };
    for (const rule of this.#rules) {
      if (!rule.operations.includes(operation)) continue;
      if (rule.pathIncludes !== undefined && !path.includes(rule.pathIncludes)) continue;
      rule.matched += 1;
      if (rule.matched <= (rule.afterCalls ?? 0)) continue;
      if (rule.applied >= (rule.times ?? Number.POSITIVE_INFINITY)) continue;
      if (this.#random() >= (rule.probability ?? 1)) continue;
      rule.applied += 1;
      this.faultsInjected += 1;
      return rule.effect;
    }
    return undefined;
  }

  #failIfAsked(operation: DriveOperation, path: string): boolean {
    const effect = this.#fault(operation, path);
    if (effect !== undefined && effect !== 'corrupt') {
      throw new DriveError(effect.fail, this.description, `injected ${effect.fail} on ${operation} ${path}`);
    }
    return effect === 'corrupt';
  }

  /** A copy of the bytes with one bit flipped, chosen by the seeded PRNG. */
  #flipBit(data: Uint8Array): Uint8Array {
    if (data.byteLength === 0) return data;
    const copy = Uint8Array.from(data);
    const bit = Math.floor(this.#random() * copy.byteLength * 8);
    copy[bit >>> 3] ^= 1 << (bit & 7);
    return copy;
  }

  /** The chunks with one bit flipped in one of them (chosen by the seeded PRNG). */
  #flipBitInOne(chunks: readonly Uint8Array[]): Uint8Array[] {
    const candidates = chunks.flatMap((chunk, index) => (chunk.byteLength > 0 ? [index] : []));
    if (candidates.length === 0) return [...chunks];
    const chosen = candidates[Math.floor(this.#random() * candidates.length)];
    return chunks.map((chunk, index) => (index === chosen ? this.#flipBit(chunk) : chunk));
  }

  async checkOnline(): Promise<void> {
    this.#failIfAsked('checkOnline', '');
    await this.inner.checkOnline();
  }

  async ensureDirectory(path: string, options?: { durable?: boolean }): Promise<void> {
    this.#failIfAsked('ensureDirectory', path);
    await this.inner.ensureDirectory(path, options);
  }

  async writeFile(
    path: string,
    data: Uint8Array,
    options?: { replace?: boolean; sync?: boolean },
  ): Promise<void> {
    const corrupt = this.#failIfAsked('writeFile', path);
    await this.inner.writeFile(path, corrupt ? this.#flipBit(data) : data, options);
  }

  async writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
    const corrupt = this.#failIfAsked('writeFileAtomic', path);
    await this.inner.writeFileAtomic(path, corrupt ? this.#flipBit(data) : data);
  }

  async createFileWriter(path: string, options?: { direct?: boolean }): Promise<FileWriter> {
    this.#failIfAsked('createFileWriter', path);
    const writer = await this.inner.createFileWriter(path, options);
    return {
      write: async (chunks) => {
        const corrupt = this.#failIfAsked('write', path);
        await writer.write(corrupt ? this.#flipBitInOne(chunks) : chunks);
      },
      finish: async () => {
        this.#failIfAsked('finish', path);
        await writer.finish();
      },
      abort: () => writer.abort(),
    };
  }

  async openAppendLog(path: string, options?: { durableAppends?: boolean }): Promise<AppendLog> {
    this.#failIfAsked('openAppendLog', path);
    const log = await this.inner.openAppendLog(path, options);
    return {
      append: async (chunks) => {
        const corrupt = this.#failIfAsked('append', path);
        await log.append(corrupt ? this.#flipBitInOne(chunks) : chunks);
      },
      syncData: async () => {
        this.#failIfAsked('syncData', path);
        await log.syncData();
      },
      close: () => log.close(),
    };
  }

  async readFile(path: string): Promise<Uint8Array> {
    const corrupt = this.#failIfAsked('readFile', path);
    const data = await this.inner.readFile(path);
    return corrupt ? this.#flipBit(data) : data;
  }

  async readRange(path: string, offsetBytes: number, lengthBytes: number): Promise<Uint8Array> {
    const corrupt = this.#failIfAsked('readRange', path);
    const data = await this.inner.readRange(path, offsetBytes, lengthBytes);
    return corrupt ? this.#flipBit(data) : data;
  }

  async openRangeReader(path: string): Promise<RangeReader> {
    // Faults are drawn per read, as for readRange, so a rule hits the same reads either way.
    const reader = await this.inner.openRangeReader(path);
    return {
      read: async (offsetBytes, lengthBytes, into) => {
        const corrupt = this.#failIfAsked('readRange', path);
        const data = await reader.read(offsetBytes, lengthBytes, into);
        return corrupt ? this.#flipBit(data) : data;
      },
      close: () => reader.close(),
    };
  }

  async stat(path: string): Promise<DriveEntryStat> {
    this.#failIfAsked('stat', path);
    return this.inner.stat(path);
  }

  async rename(from: string, to: string, options?: { sync?: boolean }): Promise<void> {
    this.#failIfAsked('rename', `${from} -> ${to}`);
    await this.inner.rename(from, to, options);
  }

  async remove(path: string, options?: { entries?: readonly string[] }): Promise<void> {
    this.#failIfAsked('remove', path);
    await this.inner.remove(path, options);
  }

  async list(path: string): Promise<string[]> {
    this.#failIfAsked('list', path);
    return this.inner.list(path);
  }

  async syncDirectory(path: string): Promise<void> {
    this.#failIfAsked('syncDirectory', path);
    await this.inner.syncDirectory(path);
  }

  async readRecord(directory: string, options?: { fallbackFile?: string }): Promise<Uint8Array | null> {
    const corrupt = this.#failIfAsked('readRecord', directory);
    const bytes = await this.inner.readRecord(directory, options);
    return corrupt && bytes !== null ? this.#flipBit(bytes) : bytes;
  }

  async writeRecords(records: readonly { directory: string; data: Uint8Array }[]): Promise<void> {
    const corrupt = this.#failIfAsked('writeRecords', records.map((record) => record.directory).join('\n'));
    if (!corrupt || records.length === 0) return this.inner.writeRecords(records);
    const chosen = Math.floor(this.#random() * records.length);
    await this.inner.writeRecords(
      records.map((record, index) =>
        index === chosen ? { ...record, data: this.#flipBit(record.data) } : record,
      ),
    );
  }

  async removeRecords(directories: readonly string[]): Promise<string[]> {
    this.#failIfAsked('removeRecords', directories.join('\n'));
    return this.inner.removeRecords(directories);
  }

  async listRecords(range: { after: string; before: string; limit: number }): Promise<string[]> {
    this.#failIfAsked('listRecords', range.after);
    return this.inner.listRecords(range);
  }

  closeRecords(): Promise<void> {
    return this.inner.closeRecords();
  }

  async syncFileSystem(): Promise<void> {
    this.#failIfAsked('syncFileSystem', '');
    await this.inner.syncFileSystem();
  }

  async freeSpace(): Promise<DriveSpace> {
    this.#failIfAsked('freeSpace', '');
    return this.inner.freeSpace();
  }
}
