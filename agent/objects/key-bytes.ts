// Object keys as the index stores them: their UTF-8 bytes, compared byte by byte, which is the
// order S3 lists keys in.

export function keyToBytes(key: string): Uint8Array {
  return Buffer.from(key, 'utf8');
}

export function bytesToKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

/**
 * The smallest byte string greater than every string that starts with `prefix`, or null when
 * there is none (an empty prefix, or one made only of 0xff bytes). Used to seek past a whole
 * common prefix in one step, and as the exclusive end of a prefix range.
 */
export function prefixUpperBound(prefix: Uint8Array): Uint8Array | null {
  let end = prefix.length;
  while (end > 0 && prefix[end - 1] === 0xff) end -= 1;
  if (end === 0) return null;
  const bound = Uint8Array.from(prefix.subarray(0, end));
  bound[end - 1] += 1;
  return bound;
}

export function compareBytes(left: Uint8Array, right: Uint8Array): number {
  return Buffer.compare(left, right);
}
