// Throughput of the request-body integrity work, over 64 MiB fed in 1 MiB pieces the way a streaming
// request body arrives. Prints MB/s (10^6 bytes per second).
// - each body checksum; the "AWS pure JS" row is @aws-sdk/crc64-nvme, the reason agent/digest/crc64nvme.ts
//   exists: compare it with the CRC64NVME row;
// - MD5 of 1, 2, 4, 8 and 16 bodies at once through the multi-stream addon
//   (agent/digest/native-md5.ts), all bodies together, against one body through OpenSSL, then 8
//   and 16 bodies through its eight-lane AVX2 kernel;
// - the shard store's CRC-32 over 256 KiB shards through each implementation agent/digest/crc32.ts
//   can pick (ISA-L, @node-rs/crc32, zlib);
// - the aws-chunked decoder with 64 KiB chunks (the AWS SDKs' size), signed (every chunk's HMAC and
//   sha256 checked) and unsigned with a trailer.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { Crc64Nvme as AwsCrc64Nvme } from '@aws-sdk/crc64-nvme';
import { type Crc32, loadIsalCrc32 } from '../agent/digest/crc32.ts';
import { nativeMd5 } from '../agent/digest/native-md5.ts';
import { AwsChunkedDecoder, type AwsChunkedMode } from '../agent/s3/aws-chunked.ts';
import { createHasher, type StreamingHasher } from '../agent/s3/checksums.ts';
import type { ChunkSigningContext } from '../agent/s3/sigv4.ts';

const totalBytes = 64 * 1024 * 1024;
const pieceBytes = 1024 * 1024;
const chunkBytes = 64 * 1024;

function report(name: string, started: number, bytes: number): void {
  const seconds = (performance.now() - started) / 1000;
  console.log(`${name.padEnd(40)} ${(bytes / 1e6 / seconds).toFixed(0).padStart(6)} MB/s`);
}

function measureCrc32(name: string, crc32: Crc32, shard: Uint8Array): void {
  const started = performance.now();
  let value = 0;
  for (let done = 0; done < totalBytes; done += shard.byteLength) value ^= crc32(shard);
  // The values are used, so no call can be skipped.
  if (value === 0x1234_5678) console.log('(unlikely value)');
  report(name, started, totalBytes);
}

async function measure(name: string, hasher: StreamingHasher, data: Uint8Array): Promise<void> {
  const started = performance.now();
  for (let done = 0; done < totalBytes; done += pieceBytes) hasher.update(data);
  await hasher.digest();
  report(name, started, totalBytes);
}

/** An aws-chunked body of `totalBytes` in 64 KiB chunks, signed or not, and the context to decode it. */
function chunkedBody(mode: AwsChunkedMode): { body: Buffer; context: ChunkSigningContext } {
  const context: ChunkSigningContext = {
    signingKey: randomBytes(32),
    requestDateTime: '20261129T100000Z',
    scope: '20261129/eu-west-par/s3/aws4_request',
    seedSignature: '0'.repeat(64),
  };
  const data = randomBytes(chunkBytes);
  const dataHash = createHash('sha256').update(data).digest('hex');
  const emptyHash = createHash('sha256').update('').digest('hex');
  const parts: Buffer[] = [];
  let previous = context.seedSignature;
  const sign = (hash: string) => {
    const toSign = [
      'AWS4-HMAC-SHA256-PAYLOAD',
      context.requestDateTime,
      context.scope,
      previous,
      emptyHash,
      hash,
    ];
    previous = createHmac('sha256', context.signingKey).update(toSign.join('\n')).digest('hex');
    return previous;
  };
  for (let done = 0; done < totalBytes; done += chunkBytes) {
    const extension = mode === 'signed' ? `;chunk-signature=${sign(dataHash)}` : '';
    parts.push(Buffer.from(`${chunkBytes.toString(16)}${extension}\r\n`), data, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(mode === 'signed' ? `0;chunk-signature=${sign(emptyHash)}\r\n\r\n` : '0\r\n\r\n'));
  return { body: Buffer.concat(parts), context };
}

/**
 * `bodies` MD5s at once, each of `totalBytes` in 1 MiB pieces of its own (the digest worker's
 * case), through the kernel of `lanes` (default the widest this CPU runs).
 */
function measureMd5Lanes(bodies: number, lanes?: number): void {
  const md5 = nativeMd5();
  if (md5 === null) {
    console.log(`MD5, ${bodies} bodies at once: no addon (build/coffre_md5.node), not measured`);
    return;
  }
  const width = lanes ?? md5.lanes;
  if (width > md5.lanes) return;
  const data = Array.from({ length: bodies }, () => randomBytes(pieceBytes));
  const contexts = data.map(() => md5.create());
  const started = performance.now();
  for (let done = 0; done < totalBytes; done += pieceBytes) md5.update(contexts, data, width);
  for (const context of contexts) md5.digest(context);
  const name = `MD5, ${bodies} ${bodies === 1 ? 'body' : 'bodies'} at once (${width} lanes), all`;
  report(name, started, bodies * totalBytes);
}

async function measureDecoder(name: string, mode: AwsChunkedMode): Promise<void> {
  const { body, context } = chunkedBody(mode);
  async function* pieces() {
    for (let offset = 0; offset < body.length; offset += pieceBytes)
      yield body.subarray(offset, offset + pieceBytes);
  }
  const decoder = new AwsChunkedDecoder({
    mode,
    chunkSigning: context,
    decodedContentLengthBytes: totalBytes,
  });
  const started = performance.now();
  for await (const _ of decoder.decode(pieces())) {
    // Decoding, verifying and yielding is the work measured.
  }
  report(name, started, totalBytes);
}

export async function run(): Promise<void> {
  const data = randomBytes(pieceBytes);
  for (const algorithm of ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256', 'MD5'] as const) {
    await measure(algorithm, createHasher(algorithm), data);
  }
  await measure('CRC64NVME (AWS pure JS)', new AwsCrc64Nvme(), data);
  // The shard store's CRC-32 (agent/digest/crc32.ts) over 256 KiB shards, by implementation.
  const shard = data.subarray(0, 256 * 1024);
  const isal = loadIsalCrc32();
  if (isal === undefined)
    console.log('CRC32 of 256 KiB shards, ISA-L: no addon (build/coffre_isal.node), not measured');
  else measureCrc32('CRC32 of 256 KiB shards, ISA-L', isal, shard);
  const nodeRs = createRequire(import.meta.url)('@node-rs/crc32') as { crc32: Crc32 };
  measureCrc32('CRC32 of 256 KiB shards, @node-rs/crc32', nodeRs.crc32, shard);
  measureCrc32('CRC32 of 256 KiB shards, zlib', (bytes, initial) => zlibCrc32(bytes, initial), shard);
  for (const bodies of [1, 2, 4, 8, 16]) measureMd5Lanes(bodies);
  // The AVX2 kernel, which CPUs without AVX-512 use.
  for (const bodies of [8, 16]) measureMd5Lanes(bodies, 8);
  await measureDecoder('aws-chunked, signed 64 KiB chunks', 'signed');
  await measureDecoder('aws-chunked, unsigned 64 KiB chunks', 'unsigned-trailer');
}
