// The on-disk format of a drive's journal (see journal.ts for how it is used).
//
// Segment file ("journal/<16-digit number>.log", one per drive at a time being appended to):
//   0  magic "COFFREJL"        8  format version u16 (1)   10 reserved u16 (0)
//   12 CRC-32 of bytes 0..11
//   16 entries, back to back, each framed as
//        0 payload length u32     4 CRC-32 of the payload u32     8 payload
// Entry payload:
//   0  kind u8 (1 = version record, 2 = version removal)   1 reserved u8 x 3
//   4  kind 1: a version record, byte for byte as formats.ts encodes it (it carries its
//             own address, layout and inline payload)
//      kind 2: JSON {bucket, key, versionId} (UTF-8) of the version removed from this drive
// All integers are big-endian. A segment is only ever appended to, by one process, and never
// after a reopen (each open starts a new one), so a torn write can only be its last entry:
// replay stops at the first frame that is short or fails its CRC, and drops the rest.
import { crc32 } from 'node:zlib';
import { StoreError } from './errors.ts';
import { currentFormatVersion, decodeVersionRecord } from './formats.ts';
import { type VersionAddress, versionDirectory } from './layout.ts';

export const journalMagic = 'COFFREJL';
export const journalDirectory = 'journal';
/** Where the checkpointer trashes removed directories; emptied at open. */
export const journalStagingDirectory = 'journal/staging';
export const segmentHeaderBytes = 16;
export const entryFrameBytes = 8;
/** Named bound on one entry: a record with its inline payload and a previous version fits. */
export const maxEntryPayloadBytes = 4 * 1024 * 1024;

const recordKind = 1;
const removalKind = 2;

/** What one journal entry says about one version directory of this drive. */
export type JournalChange =
  | { kind: 'record'; directory: string; address: VersionAddress; recordBytes: Uint8Array }
  | { kind: 'removal'; directory: string; address: VersionAddress };

export function segmentFileName(segmentNumber: number): string {
  return `${String(segmentNumber).padStart(16, '0')}.log`;
}

/** The segment number of a file name, or null for anything else in the journal directory. */
export function segmentNumberOf(name: string): number | null {
  return /^\d{16}\.log$/.test(name) ? Number(name.slice(0, 16)) : null;
}

export function encodeSegmentHeader(): Uint8Array {
  const bytes = Buffer.alloc(segmentHeaderBytes);
  bytes.write(journalMagic, 0, 'latin1');
  bytes.writeUInt16BE(currentFormatVersion, 8);
  bytes.writeUInt32BE(crc32(bytes.subarray(0, 12)), 12);
  return bytes;
}

/** The framed entry, ready to append. */
export function encodeJournalEntry(change: JournalChange): Uint8Array {
  const body =
    change.kind === 'record'
      ? change.recordBytes
      : Buffer.from(
          JSON.stringify({
            bucket: change.address.bucket,
            key: change.address.key,
            versionId: change.address.versionId,
          }),
          'utf8',
        );
  const payloadBytes = 4 + body.byteLength;
  if (payloadBytes > maxEntryPayloadBytes) {
    throw new RangeError(`journal entry of ${payloadBytes} bytes exceeds ${maxEntryPayloadBytes}`);
  }
  // From Node's buffer pool (a frame lives only until its batch is written); every byte is written.
  const bytes = Buffer.allocUnsafe(entryFrameBytes + payloadBytes);
  bytes.writeUInt32BE(payloadBytes, 0);
  bytes.writeUInt8(change.kind === 'record' ? recordKind : removalKind, entryFrameBytes);
  bytes.fill(0, entryFrameBytes + 1, entryFrameBytes + 4);
  bytes.set(body, entryFrameBytes + 4);
  bytes.writeUInt32BE(crc32(bytes.subarray(entryFrameBytes)), 4);
  return bytes;
}

export interface ParsedSegment {
  changes: JournalChange[];
  /** Bytes of header and whole entries; anything after them is a torn tail. */
  validBytes: number;
  /** True when bytes after the last whole entry were dropped. */
  tornTail: boolean;
}

/**
 * Reads a segment. A segment shorter than its header is one whose creation was cut short (it
 * never held an acknowledged entry): empty. A wrong magic or version is CORRUPT: the drive
 * holds something this code must not guess about.
 */
export function parseSegment(bytes: Uint8Array): ParsedSegment {
  if (bytes.byteLength < segmentHeaderBytes)
    return { changes: [], validBytes: 0, tornTail: bytes.byteLength > 0 };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (crc32(bytes.subarray(0, 12)) !== view.getUint32(12)) {
    // The header is written and fsynced before any entry: a bad one is damage, not a torn write.
    throw new StoreError('CORRUPT', 'journal segment: header checksum mismatch');
  }
  if (Buffer.from(bytes.subarray(0, 8)).toString('latin1') !== journalMagic) {
    throw new StoreError('CORRUPT', 'journal segment: bad magic');
  }
  const version = view.getUint16(8);
  if (version !== currentFormatVersion) {
    throw new StoreError('CORRUPT', `journal segment: unsupported format version ${version}`);
  }
  const changes: JournalChange[] = [];
  let offset = segmentHeaderBytes;
  while (offset < bytes.byteLength) {
    const change = parseEntryAt(bytes, view, offset);
    if (change === null) break;
    changes.push(change.change);
    offset = change.end;
  }
  return { changes, validBytes: offset, tornTail: offset < bytes.byteLength };
}

/** The entry at `offset`, or null when it is short, fails its CRC or does not decode. */
function parseEntryAt(
  bytes: Uint8Array,
  view: DataView,
  offset: number,
): { change: JournalChange; end: number } | null {
  if (bytes.byteLength - offset < entryFrameBytes) return null;
  const payloadBytes = view.getUint32(offset);
  const end = offset + entryFrameBytes + payloadBytes;
  if (payloadBytes < 4 || payloadBytes > maxEntryPayloadBytes || end > bytes.byteLength) return null;
  const payload = bytes.subarray(offset + entryFrameBytes, end);
  if (crc32(payload) !== view.getUint32(offset + 4)) return null;
  const body = payload.subarray(4);
  try {
    if (payload[0] === recordKind) {
      // A copy: the segment's buffer must not be kept alive by the index.
      const recordBytes = Uint8Array.from(body);
      const { record } = decodeVersionRecord(recordBytes);
      const address = { bucket: record.bucket, key: record.key, versionId: record.versionId };
      return { change: { kind: 'record', directory: versionDirectory(address), address, recordBytes }, end };
    }
    if (payload[0] === removalKind) {
      const address = JSON.parse(Buffer.from(body).toString('utf8')) as VersionAddress;
      return { change: { kind: 'removal', directory: versionDirectory(address), address }, end };
    }
  } catch {
    // A frame whose CRC matches but whose content does not decode: treated like a torn tail.
  }
  return null;
}
