// One streamed single PutObject of a very large object (5 GiB, the S3 maximum for one PUT,
// "Upload an object in a single operation ... up to 5 GB", S3 user guide) while VmRSS of the server
// is sampled: the server must stream, so its resident memory should hardly grow.

import type { PayloadPool } from './payload.ts';
import { RssSampler, readMemory, resetPeakRss } from './process-stats.ts';
import type { SignedS3Client } from './signed-client.ts';

export interface BigUploadResult {
  objectBytes: number;
  seconds: number;
  bytesPerSecond: number;
  rssBeforeBytes: number;
  rssLargestSampleBytes: number;
  /** VmHWM after the upload, the peak having been reset just before it (when the kernel allows). */
  peakRssBytes: number;
  peakWasReset: boolean;
  samples: number;
  etag: string;
}

const samplingIntervalMs = 100;

export async function runBigUpload(options: {
  client: SignedS3Client;
  bucket: string;
  serverPid: number;
  pool: PayloadPool;
  objectBytes: number;
}): Promise<BigUploadResult> {
  const { client, bucket } = options;
  const key = 'big/upload';
  const peakWasReset = resetPeakRss(options.serverPid);
  const sampler = new RssSampler(options.serverPid, samplingIntervalMs);
  const started = performance.now();
  let etag = '';
  try {
    const response = await client.request({
      method: 'PUT',
      path: `/${bucket}/${key}`,
      body: options.pool.body(options.objectBytes, 5),
    });
    etag = String(response.headers.etag ?? '');
  } finally {
    sampler.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  const peakRssBytes = readMemory(options.serverPid).peakRssBytes;
  await client.request({ method: 'DELETE', path: `/${bucket}/${key}` });
  return {
    objectBytes: options.objectBytes,
    seconds,
    bytesPerSecond: options.objectBytes / seconds,
    rssBeforeBytes: sampler.firstBytes,
    rssLargestSampleBytes: sampler.largestBytes,
    peakRssBytes,
    peakWasReset,
    samples: sampler.sampleCount,
    etag,
  };
}
