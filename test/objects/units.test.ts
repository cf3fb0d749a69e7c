import { createHash } from 'node:crypto';
import test from 'ava';
import { isObjectError } from '../../agent/objects/errors.ts';
import { groupedScan } from '../../agent/objects/grouped-scan.ts';
import {
  createHybridLogicalClock,
  hybridTimestampLength,
  parseHybridTimestamp,
} from '../../agent/objects/hybrid-logical-clock.ts';
import { keyToBytes, prefixUpperBound } from '../../agent/objects/key-bytes.ts';
import { multipartEtag } from '../../agent/objects/multipart.ts';
import { resolveRange } from '../../agent/objects/ranges.ts';
import { assertTags, maximumBucketTags } from '../../agent/objects/validation.ts';

test('hybrid logical clock: ids are fixed-width, unique and increasing when the wall clock stalls or steps back', (t) => {
  let nowMs = 1_000_000;
  const clock = createHybridLogicalClock({ clock: () => nowMs, nodeId: 'abcdef01' });
  const ids = [clock.next(), clock.next()];
  nowMs -= 60_000;
  ids.push(clock.next());
  nowMs += 120_000;
  ids.push(clock.next());
  t.true(ids.every((id) => id.length === hybridTimestampLength));
  t.deepEqual([...ids].sort(), ids);
  t.is(new Set(ids).size, ids.length);
  t.deepEqual(parseHybridTimestamp(ids[1]), { physicalMs: 1_000_000, counter: 1, nodeId: 'abcdef01' });
  t.is(parseHybridTimestamp(ids[3]).physicalMs, 1_060_000);
});

test('hybrid logical clock: 65,536 ids in one millisecond borrow the next millisecond; observe() moves past remote ids', (t) => {
  const clock = createHybridLogicalClock({ clock: () => 5, nodeId: '00000001' });
  let previous = clock.next();
  for (let index = 0; index < 70_000; index += 1) {
    const id = clock.next();
    if (id <= previous) t.fail(`id ${id} not after ${previous}`);
    previous = id;
  }
  t.is(parseHybridTimestamp(previous).physicalMs, 6);
  const remote = `${(10_000).toString(16).padStart(12, '0')}0007ffffffff`;
  clock.observe(remote);
  t.true(clock.next() > remote);
});

test('ranges: RFC 9110 byte ranges resolve against the size; unsatisfiable ones are InvalidRange', (t) => {
  const cases: [
    Parameters<typeof resolveRange>[0],
    number,
    { offsetBytes: number; lengthBytes: number } | 'InvalidRange',
  ][] = [
    [{ firstByte: 0, lastByte: 9 }, 100, { offsetBytes: 0, lengthBytes: 10 }],
    [{ firstByte: 90 }, 100, { offsetBytes: 90, lengthBytes: 10 }],
    [{ firstByte: 90, lastByte: 1000 }, 100, { offsetBytes: 90, lengthBytes: 10 }],
    [{ firstByte: 99, lastByte: 99 }, 100, { offsetBytes: 99, lengthBytes: 1 }],
    [{ suffixLengthBytes: 1 }, 100, { offsetBytes: 99, lengthBytes: 1 }],
    [{ suffixLengthBytes: 1000 }, 100, { offsetBytes: 0, lengthBytes: 100 }],
    [{ firstByte: 100 }, 100, 'InvalidRange'],
    [{ suffixLengthBytes: 0 }, 100, 'InvalidRange'],
    [{ firstByte: 0 }, 0, 'InvalidRange'],
    [{ suffixLengthBytes: 5 }, 0, 'InvalidRange'],
  ];
  for (const [range, size, expected] of cases) {
    const label = `${JSON.stringify(range)} of ${size}`;
    if (expected === 'InvalidRange')
      t.true(
        isObjectError(
          t.throws(() => resolveRange(range, size)),
          'InvalidRange',
        ),
        label,
      );
    else t.deepEqual(resolveRange(range, size), expected, label);
  }
});

test('prefix upper bound: the first byte string after every string with the prefix, none for 0xff-only prefixes', (t) => {
  t.deepEqual(prefixUpperBound(keyToBytes('a/')), Uint8Array.from(keyToBytes('a0')));
  t.deepEqual(prefixUpperBound(Uint8Array.of(0x61, 0xff, 0xff)), Uint8Array.of(0x62));
  t.is(prefixUpperBound(Uint8Array.of(0xff)), null);
  t.is(prefixUpperBound(new Uint8Array(0)), null);
});

test('grouped scan: a rolled-up prefix is skipped with one seek, not by reading its keys', (t) => {
  const keys = ['a', 'dir/1', 'dir/2', 'dir/3', 'dir/4', 'e'].map((key) => ({ keyBytes: keyToBytes(key) }));
  let rowsRead = 0;
  const fetch = function* (from: Uint8Array, to: Uint8Array, count: number) {
    let yielded = 0;
    for (const row of keys) {
      if (
        Buffer.compare(row.keyBytes, from) >= 0 &&
        Buffer.compare(row.keyBytes, to) < 0 &&
        yielded < count
      ) {
        rowsRead += 1;
        yielded += 1;
        yield row;
      }
    }
  };
  const items = groupedScan({ prefix: '', delimiter: '/', startBytes: new Uint8Array(0), limit: 10, fetch });
  t.deepEqual(
    items.map((item) => (item.kind === 'prefix' ? `prefix:${item.prefix}` : item.key)),
    ['a', 'prefix:dir/', 'e'],
  );
  t.is(rowsRead, 3, 'only the first key under dir/ was read');
});

test('multipart ETag: MD5 of the concatenated binary part MD5s, then "-" and the part count', (t) => {
  const partMd5s = ['a', 'b', 'c'].map((text) => createHash('md5').update(text).digest());
  const expected = `${createHash('md5').update(Buffer.concat(partMd5s)).digest('hex')}-3`;
  t.is(multipartEtag(partMd5s.map((md5) => md5.toString('hex'))), expected);
});

test('tag limits in the object layer count characters as the protocol layer does: code points', (t) => {
  const refused = (tags: Record<string, string>) => {
    try {
      assertTags(tags, maximumBucketTags);
      return null;
    } catch (error) {
      return isObjectError(error) ? error.code : 'other';
    }
  };
  // 128 emoji are 256 UTF-16 units: a valid key, as S3 and the protocol layer count it.
  t.is(refused({ ['🔒'.repeat(128)]: 'v' }), null);
  t.is(refused({ ['🔒'.repeat(129)]: 'v' }), 'InvalidTag');
  t.is(refused({ k: '🔒'.repeat(256) }), null);
  t.is(refused({ k: '🔒'.repeat(257) }), 'InvalidTag');
  t.is(refused({ '': 'v' }), 'InvalidTag');
});
