// A drive that is a directory of the local file system (one mount on a real host).
//
// Durability: a new file's bytes are fsynced before its name is published by a rename, and the
// directory that holds the name is fsynced after the rename. Without the first, a power loss
// can leave a published name pointing at an empty or partial file (ext4 and XFS write data
// lazily); without the second, the rename itself may still be in the page cache and be lost,
// so an acknowledged write would vanish. See the rename(2) and fsync(2) man pages: "Calling
// fsync() does not necessarily ensure that the entry in the directory containing the file has
// also reached disk. For that an explicit fsync() on a file descriptor for the directory is
// also needed."
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import {
  type FileHandle,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  rmdir,
  stat,
  statfs,
  unlink,
} from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import type { AppendLog, Drive, DriveEntryStat, DriveSpace, FileWriter, RangeReader } from './drive.ts';
import type { DriveWorkerOperation, DriveWorkerRequest, DriveWorkerResponse } from './drive-worker.ts';
import { DriveError, toDriveError } from './errors.ts';

const execFileAsync = promisify(execFile);

/**
 * syncfs(2) for drive roots. Node has no binding for it; GNU coreutils' `sync --file-system` is
 * exactly that call, once per path given (and exits non-zero if one fails). A process costs tens
 * of milliseconds of CPU, so requests are coalesced: those made while a run is in progress all go
 * in the next run, one process for every drive (group commit, again).
 */
class FileSystemSyncs {
  #waiting: { root: string; resolve: () => void; reject: (error: unknown) => void }[] = [];
  #running = false;

  request(root: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ root, resolve, reject });
      if (!this.#running) {
        this.#running = true;
        // Let the other drives of the same pass, which ask in the same turn, join this run.
        setImmediate(() => void this.#run());
      }
    });
  }

  async #run(): Promise<void> {
    while (this.#waiting.length > 0) {
      const batch = this.#waiting;
      this.#waiting = [];
      try {
        await execFileAsync('sync', ['--file-system', ...new Set(batch.map((entry) => entry.root))]);
        for (const entry of batch) entry.resolve();
      } catch (error) {
        for (const entry of batch) entry.reject(error);
      }
    }
    this.#running = false;
  }
}

const fileSystemSyncs = new FileSystemSyncs();

/**
 * The worker thread that holds the drives' record databases (drive-worker.ts), started on first
 * use. Requests made in the same turn of the event loop (the six drives' reads of one GET, say)
 * travel in one message and come back in one.
 */
class DriveWorker {
  #worker: Worker | undefined;
  #nextId = 1;
  #queued: DriveWorkerRequest[] = [];
  readonly #waiting = new Map<
    number,
    { resolve: (result: unknown) => void; reject: (error: unknown) => void }
  >();

  request(root: string, operation: DriveWorkerOperation): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#queued.push({ id, root, operation });
      if (this.#queued.length === 1) process.nextTick(() => this.#flush());
    });
  }

  #flush(): void {
    const requests = this.#queued;
    this.#queued = [];
    const worker = this.#start();
    // Keep the process alive while requests are out, not otherwise.
    worker.ref();
    worker.postMessage(requests);
  }

  #start(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const worker = new Worker(new URL('./drive-worker.ts', import.meta.url));
    worker.unref();
    worker.on('message', (responses: DriveWorkerResponse[]) => {
      for (const response of responses) {
        const waiter = this.#waiting.get(response.id);
        this.#waiting.delete(response.id);
        if (response.error === undefined) waiter?.resolve(response.result);
        else waiter?.reject(Object.assign(new Error(response.error.message), { code: response.error.code }));
      }
      if (this.#waiting.size === 0) worker.unref();
    });
    const fail = (error: unknown) => {
      this.#worker = undefined;
      for (const waiter of this.#waiting.values()) waiter.reject(error);
      this.#waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`drive worker exited with ${code}`)));
    this.#worker = worker;
    return worker;
  }
}

const driveWorker = new DriveWorker();

/**
 * Early writeback of large files. A shard file's bytes wait in the page cache until finish()'s
 * fsync, which then waits for all of them to reach the disk after the whole body has arrived: ~50
 * ms for the 96 MiB of shards of a 64 MiB object on the reference disk. Once a file has this much
 * written since its last writeback, an fdatasync starts in the background, so the disk takes the
 * bytes while the body still arrives. One per drive at a time: each holds a libuv thread while
 * the disk works. Durability is unchanged: finish() still fsyncs, and fails if a writeback failed.
 * Measured in BENCHMARKS.md (S3 load, run 10).
 */
const defaultWritebackBytes = 2 * 1024 * 1024;

export class LocalDrive implements Drive {
  readonly description: string;
  readonly #root: string;

  /** See writebackBytes: a file streamed by createFileWriter is written back every so many bytes. */
  readonly writebackBytes: number;
  /** Early writebacks started on this drive, and in flight (one at a time): see LocalFileWriter. */
  readonly writebacks = { started: 0, inFlight: 0 };
  /**
   * Files createFileWriter opened with O_DIRECT, and those asked for direct writes that went through
   * the page cache instead (a file system that refuses O_DIRECT, or a write it refused).
   */
  readonly directWrites = { files: 0, refused: 0 };
  /** False once this drive's file system refused to open a file with O_DIRECT (ramfs does, and tmpfs before Linux 6.6). */
  #directOpens = constants.O_DIRECT !== undefined;

  constructor(root: string, options?: { writebackBytes?: number }) {
    this.#root = resolve(root);
    this.description = this.#root;
    this.writebackBytes = options?.writebackBytes ?? defaultWritebackBytes;
  }

  /** The absolute path of a drive-relative path, asserting it stays inside the root. */
  #resolve(path: string): string {
    // The agent's own paths are plain ("a/b/c": no empty, "." or ".." segment): joined as they are,
    // they are what normalize(join()) would give. That ran on every drive call: 4.3 % of the event
    // loop's busy time in the 4 KiB PUT and GET cells at c16, 0.4 % now (BENCHMARKS.md, run 11).
    // The general path below keeps the checks for any other path.
    if (isPlainRelativePath(path)) return this.#root === sep ? `${sep}${path}` : `${this.#root}${sep}${path}`;
    assert.ok(!isAbsolute(path), `drive path must be relative: ${path}`);
    const absolute = normalize(join(this.#root, path));
    assert.ok(
      absolute === this.#root || absolute.startsWith(this.#root + sep),
      `drive path escapes: ${path}`,
    );
    return absolute;
  }

  async #rootExists(): Promise<boolean> {
    try {
      return (await stat(this.#root)).isDirectory();
    } catch {
      return false;
    }
  }

  /** Runs a file-system call and converts its error into a DriveError. */
  async #call<T>(action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      throw toDriveError(error, this.description, await this.#rootExists());
    }
  }

  /** The check in flight, shared by the calls made meanwhile. */
  #onlineCheck: Promise<void> | null = null;

  checkOnline(): Promise<void> {
    // Reads of journaled records check their drive each time (six per 4 KiB GET): concurrent calls
    // share the stat in flight. Its answer is at most one stat older than one the caller would
    // start itself, and either can be outdated a moment later, when the drive goes.
    this.#onlineCheck ??= this.#call(async () => {
      const entry = await stat(this.#root);
      if (!entry.isDirectory()) throw new DriveError('DRIVE_OFFLINE', this.description, 'not a directory');
    }).finally(() => {
      this.#onlineCheck = null;
    });
    return this.#onlineCheck;
  }

  ensureDirectory(path: string, options?: { durable?: boolean }): Promise<void> {
    const absolute = this.#resolve(path);
    return this.#call(async () => {
      const firstCreated = await mkdir(absolute, { recursive: true });
      if (firstCreated !== undefined && `${this.#root}${sep}`.startsWith(`${firstCreated}${sep}`)) {
        // The root itself was missing and has just been created: never keep that, an unmounted
        // drive would silently become a directory on the system disk. (Checked after the mkdir
        // rather than with a stat before it: one trip to the thread pool less per call, and this
        // is the rare case.) Only the directories this call created go, deepest first and each only
        // if empty: a drive mounted meanwhile is never entered.
        for (
          let directory = absolute;
          directory.length >= firstCreated.length;
          directory = dirname(directory)
        ) {
          await rmdir(directory).catch(() => {});
        }
        throw new DriveError('DRIVE_OFFLINE', this.description, 'drive root is missing');
      }
      if (firstCreated === undefined || options?.durable === false) return;
      // Each new directory's entry lives in its parent: fsync the parents from the first created
      // one down to the deepest, so the whole chain survives a power loss.
      let directory = absolute;
      const toSync: string[] = [];
      while (directory.length >= firstCreated.length) {
        toSync.push(dirname(directory));
        directory = dirname(directory);
      }
      // Independent directories: their fsyncs can run at once; all finish before we return.
      await Promise.all(toSync.map(syncDirectoryAt));
    });
  }

  writeFile(path: string, data: Uint8Array, options?: { replace?: boolean; sync?: boolean }): Promise<void> {
    const absolute = this.#resolve(path);
    return this.#call(() => writeAndSync(absolute, data, options));
  }

  writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
    const absolute = this.#resolve(path);
    const temporary = `${absolute}.${randomUUID()}.tmp`;
    return this.#call(async () => {
      try {
        await writeAndSync(temporary, data);
        await rename(temporary, absolute);
      } catch (error) {
        await unlink(temporary).catch(() => {});
        throw error;
      }
      await syncDirectoryAt(dirname(absolute));
    });
  }

  createFileWriter(path: string, options?: { direct?: boolean }): Promise<FileWriter> {
    const absolute = this.#resolve(path);
    return this.#call(async () => {
      if (options?.direct && this.#directOpens) {
        const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_DIRECT;
        try {
          const handle = await open(absolute, flags);
          this.directWrites.files += 1;
          return new LocalFileWriter(handle, absolute, this, true);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EINVAL') throw error;
          // The file system has no direct I/O (open(2): EINVAL). Linux checks after creating the
          // file: it is there, empty, and ours (a new name in our staging directory).
          this.#directOpens = false;
          this.directWrites.refused += 1;
          await unlink(absolute).catch(() => {});
        }
      } else if (options?.direct) this.directWrites.refused += 1;
      return new LocalFileWriter(await open(absolute, 'wx'), absolute, this, false);
    });
  }

  openAppendLog(path: string, options?: { durableAppends?: boolean }): Promise<AppendLog> {
    const absolute = this.#resolve(path);
    // 'ax', plus O_DSYNC for durable appends: each writev(2) then returns once its data and the
    // file size are durable ("synchronized I/O data integrity completion", POSIX open(2)), the
    // guarantee of a write followed by fdatasync, in one trip to libuv's thread pool instead of two.
    const flags =
      constants.O_WRONLY |
      constants.O_CREAT |
      constants.O_EXCL |
      constants.O_APPEND |
      (options?.durableAppends ? constants.O_DSYNC : 0);
    return this.#call(async () => new LocalAppendLog(await open(absolute, flags), this));
  }

  /** Used by LocalFileWriter to convert its errors. */
  convert(error: unknown): Promise<DriveError> {
    return this.#rootExists().then((exists) => toDriveError(error, this.description, exists));
  }

  readFile(path: string): Promise<Uint8Array> {
    const absolute = this.#resolve(path);
    return this.#call(() => readFile(absolute));
  }

  readRange(path: string, offsetBytes: number, lengthBytes: number): Promise<Uint8Array> {
    const absolute = this.#resolve(path);
    return this.#call(async () => {
      const handle = await open(absolute, 'r');
      try {
        return await readAt(handle, offsetBytes, lengthBytes);
      } finally {
        await handle.close();
      }
    });
  }

  openRangeReader(path: string): Promise<RangeReader> {
    const absolute = this.#resolve(path);
    return this.#call(async () => {
      const handle = await open(absolute, 'r');
      return {
        read: (offsetBytes, lengthBytes, into) =>
          this.#call(() => readAt(handle, offsetBytes, lengthBytes, into)),
        // FileHandle#close waits for the operations in flight on the handle.
        close: () => handle.close().catch(() => {}),
      };
    });
  }

  stat(path: string): Promise<DriveEntryStat> {
    const absolute = this.#resolve(path);
    return this.#call(async () => {
      const entry = await stat(absolute);
      return { sizeBytes: entry.size, isDirectory: entry.isDirectory() };
    });
  }

  rename(from: string, to: string, options?: { sync?: boolean }): Promise<void> {
    const absoluteFrom = this.#resolve(from);
    const absoluteTo = this.#resolve(to);
    return this.#call(async () => {
      await rename(absoluteFrom, absoluteTo);
      if (options?.sync === false) return;
      await syncDirectoryAt(dirname(absoluteTo));
      if (dirname(absoluteFrom) !== dirname(absoluteTo)) await syncDirectoryAt(dirname(absoluteFrom));
    });
  }

  remove(path: string, options?: { entries?: readonly string[] }): Promise<void> {
    const absolute = this.#resolve(path);
    assert.notEqual(absolute, this.#root, 'refusing to remove a drive root');
    const entries = options?.entries;
    for (const name of entries ?? []) {
      assert.ok(name !== '' && !name.includes(sep) && name !== '.' && name !== '..', 'an entry is one name');
    }
    return this.#call(async () => {
      if (entries !== undefined) {
        try {
          await Promise.all(entries.map((name) => unlink(join(absolute, name)).catch(ignoreMissing)));
          await rmdir(absolute).catch(ignoreMissing);
          return;
        } catch {
          // Something else is there (or an entry is a directory): the whole-tree removal below.
        }
      }
      await rm(absolute, { recursive: true, force: true });
    });
  }

  list(path: string): Promise<string[]> {
    const absolute = this.#resolve(path);
    return this.#call(async () => (await readdir(absolute)).sort());
  }

  syncDirectory(path: string): Promise<void> {
    const absolute = this.#resolve(path);
    return this.#call(() => syncDirectoryAt(absolute));
  }

  /** Runs an operation on the drive's record database, converting its errors. */
  #records(operation: DriveWorkerOperation): Promise<unknown> {
    return this.#call(async () => {
      try {
        return await driveWorker.request(this.#root, operation);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'CORRUPT')
          throw new DriveError('CORRUPT', this.description, (error as Error).message, { cause: error });
        throw error;
      }
    });
  }

  readRecord(directory: string, options?: { fallbackFile?: string }): Promise<Uint8Array | null> {
    this.#resolve(directory);
    return this.#records({
      kind: 'read',
      directory,
      fallbackFile: options?.fallbackFile ?? null,
    }) as Promise<Uint8Array | null>;
  }

  async writeRecords(records: readonly { directory: string; data: Uint8Array }[]): Promise<void> {
    for (const record of records) this.#resolve(record.directory);
    await this.#records({ kind: 'write', records: [...records] });
  }

  async removeRecords(directories: readonly string[]): Promise<string[]> {
    for (const directory of directories) this.#resolve(directory);
    return (await this.#records({ kind: 'remove', directories: [...directories] })) as string[];
  }

  listRecords(range: { after: string; before: string; limit: number }): Promise<string[]> {
    return this.#records({ kind: 'list', ...range }) as Promise<string[]>;
  }

  async closeRecords(): Promise<void> {
    await driveWorker.request(this.#root, { kind: 'close' }).catch(() => {});
  }

  syncFileSystem(): Promise<void> {
    return this.#call(() => fileSystemSyncs.request(this.#root));
  }

  freeSpace(): Promise<DriveSpace> {
    return this.#call(async () => {
      const space = await statfs(this.#root);
      return { freeBytes: space.bavail * space.bsize, totalBytes: space.blocks * space.bsize };
    });
  }
}

class LocalFileWriter implements FileWriter {
  #handle: FileHandle;
  readonly #path: string;
  readonly #drive: LocalDrive;
  /** Opened with O_DIRECT: the bytes go from the caller's memory to the disk, not to the page cache. */
  #direct: boolean;
  /** Where the next write goes (explicit: a writer that leaves O_DIRECT reopens the file). */
  #positionBytes = 0;
  #closed = false;
  /** Bytes written since the last early writeback began. */
  #unsyncedBytes = 0;
  /** The early writeback in flight: resolves to its error, if any (never rejects). */
  #writeback: Promise<unknown> | undefined;

  constructor(handle: FileHandle, path: string, drive: LocalDrive, direct: boolean) {
    this.#handle = handle;
    this.#path = path;
    this.#drive = drive;
    this.#direct = direct;
  }

  /**
   * With O_DIRECT every chunk must start at an address, and be a length, that are multiples of the
   * device's logical block (the caller's promise: `direct` is asked only with 4096-aligned chunks);
   * one the kernel refuses (EINVAL, nothing written) sends this file through the page cache
   * from then on: the file is reopened without O_DIRECT and the write retried at its position.
   */
  async write(chunks: readonly Uint8Array[]): Promise<void> {
    try {
      let pending = chunks.filter((chunk) => chunk.byteLength > 0);
      while (pending.length > 0) {
        let bytesWritten: number;
        try {
          ({ bytesWritten } = await this.#handle.writev(pending, this.#positionBytes));
        } catch (error) {
          if (!this.#direct || (error as NodeJS.ErrnoException).code !== 'EINVAL') throw error;
          await this.#leaveDirect();
          continue;
        }
        pending = skipBytes(pending, bytesWritten);
        this.#positionBytes += bytesWritten;
        this.#unsyncedBytes += bytesWritten;
      }
    } catch (error) {
      throw await this.#drive.convert(error);
    }
    // Direct writes leave nothing in the page cache for an early writeback to push.
    if (!this.#direct && this.#unsyncedBytes >= this.#drive.writebackBytes) this.#startWriteback();
  }

  async #leaveDirect(): Promise<void> {
    const buffered = await open(this.#path, constants.O_WRONLY);
    await this.#handle.close().catch(() => {});
    this.#handle = buffered;
    this.#direct = false;
    this.#drive.directWrites.refused += 1;
  }

  /**
   * Starts an fdatasync of what is written so far, not waited for here: the disk writes while the
   * next blocks arrive, and finish()'s fsync finds little left (see writebackBytes).
   */
  #startWriteback(): void {
    const { writebacks } = this.#drive;
    if (this.#writeback !== undefined || this.#closed || writebacks.inFlight > 0) return;
    this.#unsyncedBytes = 0;
    writebacks.started += 1;
    writebacks.inFlight += 1;
    this.#writeback = this.#handle.datasync().then(
      () => {
        writebacks.inFlight -= 1;
        this.#writeback = undefined;
      },
      (error: unknown) => {
        writebacks.inFlight -= 1;
        // Kept: finish() fails with it, as its own fsync would.
        return error;
      },
    );
  }

  async finish(): Promise<void> {
    try {
      const writebackError = await this.#writeback;
      if (writebackError !== undefined) throw writebackError;
      await this.#handle.sync();
      this.#closed = true;
      await this.#handle.close();
    } catch (error) {
      throw await this.#drive.convert(error);
    }
  }

  async abort(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      await this.#handle.close().catch(() => {});
    }
    await unlink(this.#path).catch(() => {});
  }
}

class LocalAppendLog implements AppendLog {
  readonly #handle: FileHandle;
  readonly #drive: LocalDrive;
  #closed = false;

  constructor(handle: FileHandle, drive: LocalDrive) {
    this.#handle = handle;
    this.#drive = drive;
  }

  async append(chunks: readonly Uint8Array[]): Promise<void> {
    try {
      // O_APPEND: each writev lands at the end of the file, a short one is continued.
      let pending = chunks.filter((chunk) => chunk.byteLength > 0);
      while (pending.length > 0) {
        const { bytesWritten } = await this.#handle.writev(pending);
        pending = skipBytes(pending, bytesWritten);
      }
    } catch (error) {
      throw await this.#drive.convert(error);
    }
  }

  async syncData(): Promise<void> {
    try {
      await this.#handle.datasync();
    } catch (error) {
      throw await this.#drive.convert(error);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#handle.close().catch(() => {});
  }
}

/**
 * Up to `lengthBytes` bytes from `offsetBytes` of an open file; shorter only at its end. Into `into`
 * when given (a view of it is returned), else into a new buffer.
 */
async function readAt(
  handle: FileHandle,
  offsetBytes: number,
  lengthBytes: number,
  into?: Uint8Array,
): Promise<Uint8Array> {
  assert.ok(into === undefined || into.byteLength >= lengthBytes, 'read buffer smaller than the read');
  const buffer = into ?? Buffer.allocUnsafe(lengthBytes);
  let filled = 0;
  while (filled < lengthBytes) {
    const { bytesRead } = await handle.read(buffer, filled, lengthBytes - filled, offsetBytes + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/** The chunks that remain after the first `count` bytes were written (a short writev). */
function skipBytes(chunks: Uint8Array[], count: number): Uint8Array[] {
  let remaining = count;
  const rest: Uint8Array[] = [];
  for (const chunk of chunks) {
    if (remaining >= chunk.byteLength) {
      remaining -= chunk.byteLength;
    } else {
      rest.push(chunk.subarray(remaining));
      remaining = 0;
    }
  }
  return rest;
}

async function writeAndSync(
  absolute: string,
  data: Uint8Array,
  options?: { replace?: boolean; sync?: boolean },
): Promise<void> {
  const exclusive = options?.replace ? constants.O_TRUNC : constants.O_EXCL;
  const handle = await open(absolute, constants.O_WRONLY | constants.O_CREAT | exclusive);
  try {
    let written = 0;
    while (written < data.byteLength) {
      const { bytesWritten } = await handle.write(data, written, data.byteLength - written);
      written += bytesWritten;
    }
    if (options?.sync !== false) await handle.sync();
  } catch (error) {
    await handle.close().catch(() => {});
    await unlink(absolute).catch(() => {});
    throw error;
  }
  await handle.close();
}

/** For removals: a name that is already gone is what was wanted. */
function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error;
}

async function syncDirectoryAt(absolute: string): Promise<void> {
  const handle = await open(absolute, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * A relative path of plain segments: not empty, no leading or trailing "/", no "//", and no "." or
 * ".." segment, so joining it to a root can neither leave the root nor be changed by normalize().
 */
export function isPlainRelativePath(path: string): boolean {
  if (path === '' || path.startsWith('/') || path.endsWith('/') || path.includes('//')) return false;
  const bounded = `/${path}/`;
  return !bounded.includes('/./') && !bounded.includes('/../');
}
