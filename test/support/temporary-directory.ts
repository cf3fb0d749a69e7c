// A fresh directory under the system's temp directory for one test, removed when the test ends
// (pass or fail), so repeated runs leave nothing behind in /tmp.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ExecutionContext } from 'ava';

export function temporaryDirectory(t: ExecutionContext, prefix: string): string {
  const directory = mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}
