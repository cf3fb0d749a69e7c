// The scan under every S3 listing: rows in key byte order from a start position, with keys that
// contain the delimiter after the prefix rolled up into one CommonPrefixes entry. A rolled-up
// prefix is skipped with one index seek to the first key after it, never by reading its keys, so
// a page costs the same whether a folder holds ten keys or ten million.
import { bytesToKey, compareBytes, keyToBytes, prefixUpperBound } from './key-bytes.ts';

/** UTF-8 never contains the byte 0xff, so this sorts after every key. */
const afterEveryKey = Uint8Array.of(0xff);

export interface ScannedRow {
  keyBytes: Uint8Array;
}

export type ScanItem<Row> = { kind: 'row'; key: string; row: Row } | { kind: 'prefix'; prefix: string };

export interface GroupedScanOptions<Row extends ScannedRow> {
  prefix: string;
  delimiter: string | undefined;
  /** Inclusive start position in key bytes. */
  startBytes: Uint8Array;
  /** How many items (rows and prefixes) to return at most. */
  limit: number;
  /**
   * Up to `count` rows with startBytes <= key < endBytes, in listing order, read lazily: the scan
   * stops reading at the first key it rolls up, so a seek never pays for rows it skips.
   */
  fetch: (startBytes: Uint8Array, endBytes: Uint8Array, count: number) => Iterable<Row>;
}

export function groupedScan<Row extends ScannedRow>(options: GroupedScanOptions<Row>): ScanItem<Row>[] {
  const items: ScanItem<Row>[] = [];
  const prefixBytes = keyToBytes(options.prefix);
  const endBytes = prefixUpperBound(prefixBytes) ?? afterEveryKey;
  let startBytes = compareBytes(options.startBytes, prefixBytes) > 0 ? options.startBytes : prefixBytes;
  const delimiter = options.delimiter === '' ? undefined : options.delimiter;
  while (items.length < options.limit && compareBytes(startBytes, endBytes) < 0) {
    const requested = options.limit - items.length;
    const rows = options.fetch(startBytes, endBytes, requested);
    let seekBytes: Uint8Array | null = null;
    for (const row of rows) {
      const key = bytesToKey(row.keyBytes);
      const delimiterAt = delimiter === undefined ? -1 : key.indexOf(delimiter, options.prefix.length);
      if (delimiterAt >= 0) {
        const commonPrefix = key.slice(0, delimiterAt + delimiter!.length);
        items.push({ kind: 'prefix', prefix: commonPrefix });
        seekBytes = prefixUpperBound(keyToBytes(commonPrefix)) ?? afterEveryKey;
        break;
      }
      items.push({ kind: 'row', key, row });
      if (items.length >= options.limit) break;
    }
    if (seekBytes === null) break; // the page is full, or the range has no more rows
    startBytes = seekBytes;
  }
  return items;
}

/** The position just after `key` (the smallest byte string greater than it). */
export function positionAfter(key: string): Uint8Array {
  const bytes = keyToBytes(key);
  const after = new Uint8Array(bytes.length + 1);
  after.set(bytes);
  return after;
}

/**
 * The start position after a marker. S3 continues after a marker that is itself a common prefix
 * (a v1 NextMarker, a v2 StartAfter ending in the delimiter) by skipping everything under it.
 */
export function positionAfterMarker(
  marker: string,
  prefix: string,
  delimiter: string | undefined,
): Uint8Array {
  if (delimiter && marker.startsWith(prefix) && marker.endsWith(delimiter)) {
    const delimiterAt = marker.indexOf(delimiter, prefix.length);
    if (delimiterAt === marker.length - delimiter.length) {
      return prefixUpperBound(keyToBytes(marker)) ?? afterEveryKey;
    }
  }
  return positionAfter(marker);
}
