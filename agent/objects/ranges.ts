// HTTP byte ranges (RFC 9110 section 14.1.2) resolved against an object's size, as S3 does for
// GetObject's Range header.
import { invalidRange } from './manifest.ts';
import type { ByteRange } from './store.ts';

/** "bytes=first-last", "bytes=first-" (lastByte omitted) or "bytes=-suffixLength". */
export type RangeRequest = { firstByte: number; lastByte?: number } | { suffixLengthBytes: number };

/**
 * The bytes to send. RFC 9110: a range whose first byte is at or past the end is unsatisfiable
 * (416, S3's InvalidRange); a last byte past the end is clamped; a suffix longer than the
 * object means the whole object; an empty object satisfies no range.
 */
export function resolveRange(range: RangeRequest, sizeBytes: number): ByteRange {
  if ('suffixLengthBytes' in range) {
    if (range.suffixLengthBytes <= 0 || sizeBytes === 0) throw invalidRange(sizeBytes);
    const lengthBytes = Math.min(range.suffixLengthBytes, sizeBytes);
    return { offsetBytes: sizeBytes - lengthBytes, lengthBytes };
  }
  const lastByte = Math.min(range.lastByte ?? sizeBytes - 1, sizeBytes - 1);
  if (range.firstByte < 0 || range.firstByte >= sizeBytes || lastByte < range.firstByte)
    throw invalidRange(sizeBytes);
  return { offsetBytes: range.firstByte, lengthBytes: lastByte - range.firstByte + 1 };
}
