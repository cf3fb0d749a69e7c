// `npm run bench erasure`: encode and reconstruct throughput of every available kernel, for 4+2
// and 8+4 stripes of 1 MiB shards, on one core (the codec is synchronous). Figures are data bytes
// per second (k·shard size per stripe), in GB/s (10^9 bytes), the unit ISA-L reports.
import { availableKernels, createCodec, describeKernels, type KernelName } from '../agent/erasure/index.ts';

const shardBytes = 1024 * 1024;
/** How long each measurement runs; the best of `rounds` rounds is kept (the machine is shared). */
const roundDurationMs = Number(process.env.BENCH_ROUND_MS ?? 300);
const rounds = 5;
/** Geometry -> how many data shards a reconstruction loses (as many as the parity allows). */
const geometries: [number, number, number][] = [
  [4, 2, 2],
  [8, 4, 4],
];

function randomShard(): Uint8Array {
  const shard = new Uint8Array(shardBytes);
  for (let index = 0; index < shardBytes; index++) shard[index] = (index * 2_654_435_761) >>> 24;
  return shard;
}

/** Best data-bytes-per-second of `operation`, which processes `dataBytes` per call. */
function measure(dataBytes: number, operation: () => void): number {
  operation();
  let best = 0;
  for (let round = 0; round < rounds; round++) {
    let calls = 0;
    const started = process.hrtime.bigint();
    let elapsedNs = 0;
    while (elapsedNs < roundDurationMs * 1e6) {
      operation();
      calls++;
      elapsedNs = Number(process.hrtime.bigint() - started);
    }
    best = Math.max(best, (calls * dataBytes) / (elapsedNs / 1e9));
  }
  return best;
}

function benchmark(kernel: KernelName, dataShards: number, parityShards: number, lost: number): string {
  const codec = createCodec(dataShards, parityShards, { kernel });
  const data = Array.from({ length: dataShards }, randomShard);
  const parity = Array.from({ length: parityShards }, () => new Uint8Array(shardBytes));
  const dataBytes = dataShards * shardBytes;
  const encode = measure(dataBytes, () => codec.encode(data, parity));
  const stripe = [...data, ...parity];
  const reconstruct = measure(dataBytes, () => {
    const shards = stripe.map((shard, index) => (index < lost ? null : shard));
    codec.reconstruct(shards);
  });
  const gigabytes = (bytesPerSecond: number): string => (bytesPerSecond / 1e9).toFixed(2).padStart(6);
  return (
    `${kernel.padEnd(9)} ${`${dataShards}+${parityShards}`.padEnd(4)} encode ${gigabytes(encode)} GB/s` +
    `   reconstruct (${lost} data lost) ${gigabytes(reconstruct)} GB/s`
  );
}

export async function run(): Promise<void> {
  console.log(`erasure kernel: ${describeKernels()}`);
  console.log(`1 MiB shards, one core, data GB/s (10^9 B/s), best of ${rounds} x ${roundDurationMs} ms`);
  for (const kernel of availableKernels()) {
    for (const [dataShards, parityShards, lost] of geometries) {
      console.log(benchmark(kernel, dataShards, parityShards, lost));
    }
  }
}
