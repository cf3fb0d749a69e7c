import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { makeDriveDirectories } from './helpers.ts';

const probe = join(import.meta.dirname, 'memory-probe.ts');
const sizeMebibytes = 128;
/** Default bounds: 2 stripes of 1 MiB + parity in flight on write, 2 blocks read ahead on read. */
const boundBytes = 24 * 1024 * 1024;

test(`memory: writing and reading a ${sizeMebibytes} MiB version keeps live memory under ${boundBytes / 1024 / 1024} MiB`, async (t) => {
  const [first] = await makeDriveDirectories(t, 1);
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--expose-gc', probe, first, String(sizeMebibytes)],
    {
      maxBuffer: 1024 * 1024,
    },
  );
  const result = JSON.parse(stdout) as { writePeak: number; readPeak: number; identical: boolean };
  t.log(
    `peak live growth: write ${(result.writePeak / 1e6).toFixed(1)} MB, read ${(result.readPeak / 1e6).toFixed(1)} MB`,
  );
  t.true(result.identical, 'the version reads back byte-identical');
  t.true(result.writePeak < boundBytes, `write peak ${result.writePeak}`);
  t.true(result.readPeak < boundBytes, `read peak ${result.readPeak}`);
});
