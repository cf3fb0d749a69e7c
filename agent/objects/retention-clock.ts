// The clock that Object Lock decisions read. S3 retention is judged against "now": a version is
// locked while its retain-until date is later than now, and a default retention's date is now plus
// its period. If now came from the host's wall clock alone, setting that clock back would write new
// versions whose retain-until dates are already past in real time, and would make the dates of
// PutObjectRetention look "in the future" when they are not. So now is a high-water mark: the
// greatest time this agent has ever seen, kept in memory, persisted durably, and restored at start,
// so it never goes backwards, not within a run and not across restarts.
//
// The mark advances on every read (every retention decision) and is persisted when it has moved
// more than `persistIntervalMs` past the persisted value, on a timer, and on close. A crash loses at
// most that interval of advance, which only makes retention stricter (locks last a little longer),
// never looser.
import type { Drive } from '../disk/index.ts';
import { isDriveError } from '../disk/index.ts';

const fileName = 'retention-clock.json';
const fileMagic = 'coffre.retention-clock';
const fileFormatVersion = 1;
/** How far the in-memory mark may run ahead of the persisted one (and the timer's period). */
export const defaultPersistIntervalMs = 10_000;

interface RetentionClockFile {
  magic: typeof fileMagic;
  formatVersion: typeof fileFormatVersion;
  highWaterMs: number;
}

export class RetentionClockError extends Error {
  override name = 'RetentionClockError';
}

export interface RetentionClockOptions {
  /** A directory of the agent's own. */
  drive: Drive;
  /** The wall clock in milliseconds since the epoch (injectable for tests). */
  clock?: () => number;
  persistIntervalMs?: number;
}

export class RetentionClock {
  readonly #drive: Drive;
  readonly #clock: () => number;
  readonly #persistIntervalMs: number;
  #highWaterMs: number;
  #persistedMs: number;
  #persistedOnce = false;
  #persisting: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;

  private constructor(options: RetentionClockOptions, persistedMs: number) {
    this.#drive = options.drive;
    this.#clock = options.clock ?? Date.now;
    this.#persistIntervalMs = options.persistIntervalMs ?? defaultPersistIntervalMs;
    this.#persistedMs = persistedMs;
    this.#highWaterMs = persistedMs;
  }

  /** Reads the persisted mark (none on a first start), takes the wall clock into it and persists it. */
  static async open(options: RetentionClockOptions): Promise<RetentionClock> {
    const clock = new RetentionClock(options, await readMark(options.drive));
    clock.now();
    await clock.persist();
    return clock;
  }

  /** Milliseconds since the epoch, never less than any value returned before (in this run or earlier). */
  now(): number {
    const wallMs = this.#clock();
    if (wallMs > this.#highWaterMs) this.#highWaterMs = wallMs;
    if (this.#highWaterMs - this.#persistedMs > this.#persistIntervalMs && this.#persisting === null) {
      // Not awaited: a decision never waits for the disk. A failure is retried by the next read.
      this.persist().catch(() => {});
    }
    return this.#highWaterMs;
  }

  /** How far the wall clock is behind the mark (0 when it is not), for a health report. */
  wallClockLagMs(): number {
    return Math.max(0, this.#highWaterMs - this.#clock());
  }

  /** Writes the current mark durably (temp file, fsync, rename, fsync the directory). */
  async persist(): Promise<void> {
    while (this.#persisting !== null) await this.#persisting;
    const markMs = this.#highWaterMs;
    if (this.#persistedOnce && markMs <= this.#persistedMs) return;
    const file: RetentionClockFile = {
      magic: fileMagic,
      formatVersion: fileFormatVersion,
      highWaterMs: markMs,
    };
    this.#persisting = this.#drive.writeFileAtomic(fileName, Buffer.from(`${JSON.stringify(file)}\n`));
    try {
      await this.#persisting;
      this.#persistedMs = Math.max(this.#persistedMs, markMs);
      this.#persistedOnce = true;
    } finally {
      this.#persisting = null;
    }
  }

  /** Advances and persists the mark every `persistIntervalMs` until close. */
  start(): void {
    if (this.#timer !== null) return;
    this.#timer = setInterval(() => {
      this.now();
      this.persist().catch(() => {});
    }, this.#persistIntervalMs);
    this.#timer.unref();
  }

  async close(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.now();
    await this.persist();
  }
}

async function readMark(drive: Drive): Promise<number> {
  let bytes: Uint8Array;
  try {
    bytes = await drive.readFile(fileName);
  } catch (error) {
    if (isDriveError(error, 'NOT_FOUND')) return 0;
    throw error;
  }
  let file: Partial<RetentionClockFile>;
  try {
    file = JSON.parse(Buffer.from(bytes).toString('utf8')) as Partial<RetentionClockFile>;
  } catch {
    file = {};
  }
  // An unreadable mark must stop the agent rather than restart the clock from the wall clock:
  // that is exactly the state an attacker who set the clock back would want.
  if (
    file.magic !== fileMagic ||
    file.formatVersion !== fileFormatVersion ||
    typeof file.highWaterMs !== 'number' ||
    !Number.isFinite(file.highWaterMs)
  ) {
    throw new RetentionClockError(`${drive.description}/${fileName} is not a version 1 retention clock file`);
  }
  return file.highWaterMs;
}
