// Bad input becomes a typed ErasureError, never a crash or a silently wrong shard.
import test from 'ava';
import {
  availableKernels,
  createCodec,
  ErasureError,
  type ErasureErrorCode,
} from '../../agent/erasure/index.ts';

const shards = (count: number, lengthBytes: number): Uint8Array[] =>
  Array.from({ length: count }, () => new Uint8Array(lengthBytes));

const badGeometries: [number, number][] = [
  [0, 2],
  [17, 2],
  [4, 0],
  [4, 9],
  [2.5, 1],
  [Number.NaN, 1],
  [-1, 1],
];
for (const [dataShards, parityShards] of badGeometries) {
  test(`errors: geometry ${dataShards}+${parityShards} is refused with INVALID_GEOMETRY`, (t) => {
    const error = t.throws(() => createCodec(dataShards, parityShards), { instanceOf: ErasureError });
    t.is(error?.code, 'INVALID_GEOMETRY');
  });
}

test('errors: an unknown kernel is refused with KERNEL_UNAVAILABLE', (t) => {
  const error = t.throws(() => createCodec(4, 2, { kernel: 'gpu' as 'js' }), { instanceOf: ErasureError });
  t.is(error?.code, 'KERNEL_UNAVAILABLE');
});

for (const kernel of availableKernels()) {
  const codec = createCodec(4, 2, { kernel });
  const cases: [string, () => void, ErasureErrorCode][] = [
    ['3 data shards for 4+2', () => codec.encode(shards(3, 8), shards(2, 8)), 'SHARD_COUNT_MISMATCH'],
    ['3 parity shards for 4+2', () => codec.encode(shards(4, 8), shards(3, 8)), 'SHARD_COUNT_MISMATCH'],
    [
      'data shards of unequal length',
      () => codec.encode([...shards(3, 8), new Uint8Array(9)], shards(2, 8)),
      'SHARD_SIZE_MISMATCH',
    ],
    ['parity shorter than data', () => codec.encode(shards(4, 8), shards(2, 7)), 'SHARD_SIZE_MISMATCH'],
    [
      'a string as a shard',
      () => codec.encode([...shards(3, 8), 'abcdefgh' as unknown as Uint8Array], shards(2, 8)),
      'INVALID_SHARD',
    ],
    [
      'a parity buffer that is also a data shard',
      () => {
        const data = shards(4, 8);
        codec.encode(data, [data[0], new Uint8Array(8)]);
      },
      'OVERLAPPING_SHARDS',
    ],
    [
      'parity overlapping a data shard in one ArrayBuffer',
      () => {
        const memory = new Uint8Array(64);
        const data = [0, 8, 16, 24].map((offset) => memory.subarray(offset, offset + 8));
        codec.encode(data, [memory.subarray(28, 36), memory.subarray(40, 48)]);
      },
      'OVERLAPPING_SHARDS',
    ],
    [
      'the same parity buffer twice',
      () => {
        const parity = new Uint8Array(8);
        codec.encode(shards(4, 8), [parity, parity]);
      },
      'OVERLAPPING_SHARDS',
    ],
    ['3 of 6 shards present', () => codec.reconstruct([...shards(3, 8), null, null, null]), 'TOO_FEW_SHARDS'],
    ['5 entries for 4+2', () => codec.reconstruct([...shards(4, 8), null]), 'SHARD_COUNT_MISMATCH'],
    [
      'present shards of unequal length',
      () => codec.reconstruct([null, ...shards(4, 8), new Uint8Array(3)]),
      'SHARD_SIZE_MISMATCH',
    ],
  ];
  for (const [scenario, call, code] of cases) {
    test(`errors (${kernel}): ${scenario} is refused with ${code}`, (t) => {
      const error = t.throws(call, { instanceOf: ErasureError });
      t.is(error?.code, code);
    });
  }
}
