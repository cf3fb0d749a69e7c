// Reconstruction, table-driven: every geometry up to 6+3 against EVERY set of lost shards, and
// the widest geometry, 16+8, against random lost sets from a fixed seed.
import test from 'ava';
import { availableKernels, createCodec } from '../../agent/erasure/index.ts';
import { seededRandom } from './random.ts';
import { encodedStripe, lostSets, withLost } from './stripes.ts';

const shardBytes = 37;

for (const kernel of availableKernels()) {
  for (let dataShards = 1; dataShards <= 6; dataShards++) {
    for (let parityShards = 1; parityShards <= 3; parityShards++) {
      const sets = lostSets(dataShards + parityShards, parityShards);
      test(`reconstruct (${kernel}, ${dataShards}+${parityShards}): each of the ${sets.length} sets of up to ${parityShards} lost shards is rebuilt exactly`, (t) => {
        const codec = createCodec(dataShards, parityShards, { kernel });
        const stripe = encodedStripe(codec, seededRandom(dataShards * 10 + parityShards), shardBytes);
        for (const lost of sets) {
          const shards = withLost(stripe, lost);
          codec.reconstruct(shards);
          t.deepEqual(shards, stripe, `lost ${lost.join(',')}`);
        }
      });
    }
  }

  const seed = 1608;
  test(`reconstruct (${kernel}, 16+8, seed ${seed}): 200 random sets of 1 to 8 lost shards are rebuilt exactly`, (t) => {
    const random = seededRandom(seed);
    const codec = createCodec(16, 8, { kernel });
    const stripe = encodedStripe(codec, random, 1000 + random.below(100));
    for (let round = 0; round < 200; round++) {
      const lost = random.distinct(1 + random.below(8), 24);
      const shards = withLost(stripe, lost);
      codec.reconstruct(shards);
      t.deepEqual(shards, stripe, `lost ${lost.join(',')}`);
    }
  });

  test(`reconstruct (${kernel}, 8+4): with dataOnly, lost data shards are rebuilt and lost parity stays null`, (t) => {
    const codec = createCodec(8, 4, { kernel });
    const stripe = encodedStripe(codec, seededRandom(84), 100);
    const shards = withLost(stripe, [1, 5, 9, 11]);
    codec.reconstruct(shards, { dataOnly: true });
    t.deepEqual(shards.slice(0, 8), stripe.slice(0, 8));
    t.deepEqual(shards.slice(8), [stripe[8], null, stripe[10], null]);
  });

  test(`reconstruct (${kernel}, 4+2): zero-length shards are rebuilt as empty buffers`, (t) => {
    const codec = createCodec(4, 2, { kernel });
    const shards = withLost(encodedStripe(codec, seededRandom(1), 0), [0, 4]);
    codec.reconstruct(shards);
    t.deepEqual(
      shards,
      Array.from({ length: 6 }, () => new Uint8Array(0)),
    );
  });

  test(`reconstruct (${kernel}, 4+2): a stripe with nothing missing is left as it is`, (t) => {
    const codec = createCodec(4, 2, { kernel });
    const stripe = encodedStripe(codec, seededRandom(2), 10);
    const shards = [...stripe];
    codec.reconstruct(shards);
    t.true(shards.every((shard, index) => shard === stripe[index]));
  });
}
