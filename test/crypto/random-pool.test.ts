import test from 'ava';
import { pooledRandomBytes } from '../../agent/crypto/random-pool.ts';

test('pooled random bytes: the asked sizes, never the same bytes twice, across refills and beyond the pool', (t) => {
  const seen = new Set<string>();
  // 32-byte keys: 128 fit in one 4 KiB pool, so 1,000 draws cross several refills.
  for (let draw = 0; draw < 1000; draw += 1) {
    const bytes = pooledRandomBytes(32);
    t.is(bytes.length, 32);
    seen.add(bytes.toString('hex'));
  }
  t.is(seen.size, 1000);
  for (const size of [0, 1, 12, 1024, 1025, 10_000]) t.is(pooledRandomBytes(size).length, size);
  const big = pooledRandomBytes(10_000);
  t.true(big.some((byte) => byte !== 0));
});

test('pooled random bytes: a drawn buffer is a copy, untouched by later draws', (t) => {
  const first = pooledRandomBytes(16);
  const kept = Buffer.from(first);
  for (let draw = 0; draw < 600; draw += 1) pooledRandomBytes(16);
  t.deepEqual(first, kept);
});
