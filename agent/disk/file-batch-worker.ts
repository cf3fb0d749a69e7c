// The worker thread behind LocalDrive.writeFiles: writes batches of small files with synchronous
// calls. A checkpoint writes thousands of record files of a few kilobytes; through the promise
// API each open, write and close costs the main thread a round trip through libuv (measured
// ~1.2 ms of main-thread CPU per version over six drives), which is then missing from the writes
// being acknowledged. Here the same calls cost a few microseconds each, on another core.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parentPort } from 'node:worker_threads';

export interface FileBatchRequest {
  id: number;
  /** The drive's root: never recreated when it is missing. */
  root: string;
  /** Absolute paths, already checked to stay inside the root. */
  files: { path: string; data: Uint8Array }[];
}

export interface FileBatchResponse {
  id: number;
  error?: { code?: string; message: string };
}

function writeOne(root: string, path: string, data: Uint8Array): void {
  try {
    // Created, or truncated and rewritten in place; not fsynced (the caller syncs the file system).
    writeFileSync(path, data);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    makeDirectory(root, dirname(path));
    writeFileSync(path, data);
  }
}

/**
 * Creates a directory and its missing parents, one level at a time, never the root itself: an
 * unmounted drive's mount point must not silently become a directory on the system disk.
 */
function makeDirectory(root: string, directory: string): void {
  if (directory.length <= root.length) {
    throw Object.assign(new Error(`drive root ${root} is missing`), { code: 'ENOENT' });
  }
  try {
    mkdirSync(directory);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code !== 'ENOENT') throw error;
    makeDirectory(root, dirname(directory));
    mkdirSync(directory);
  }
}

parentPort?.on('message', (request: FileBatchRequest) => {
  const response: FileBatchResponse = { id: request.id };
  try {
    for (const file of request.files) writeOne(request.root, file.path, file.data);
  } catch (error) {
    const failure = error as NodeJS.ErrnoException;
    response.error = { code: failure.code, message: failure.message };
  }
  parentPort?.postMessage(response);
});
