// Reading a version's record from every drive and deciding, by quorum, which version is real.
//
// Each drive's copy is grouped by dataId (one group per write of the address). A group held by at
// least k drives is readable; the newest such group wins (an overwrite that reached its quorum).
// Within the group the highest metadataRevision wins (updateMetadata bumps it). A version held by
// fewer than k drives that could not reach k even if every silent drive held it is a leftover of
// a write that never committed: it does not exist (NOT_FOUND) and heal removes it. Otherwise, too
// many drives are silent to tell: QUORUM_LOST.
import { isDriveError } from '../disk/index.ts';
import type { SetContext } from './context.ts';
import { StoreError } from './errors.ts';
import { decodeVersionRecord, type ParsedRecords, type VersionRecord } from './formats.ts';
import { versionRecordFile } from './layout.ts';

export type RecordCopy =
  | {
      state: 'present';
      record: VersionRecord;
      inlinePayload: Uint8Array;
      previous: { record: VersionRecord; inlinePayload: Uint8Array } | null;
    }
  | { state: 'missing' }
  /** Missing on a drive that awaits its rebuild: it does not count as "this version is absent". */
  | { state: 'unverified' }
  | { state: 'offline'; error: unknown }
  | { state: 'corrupt'; error: unknown };

type FetchedCopy = { state: 'bytes'; bytes: Uint8Array } | Exclude<RecordCopy, { state: 'present' }>;

/** A drive's record bytes for a directory: its journal first, then its record database. */
async function fetchRecordBytes(
  ctx: SetContext,
  driveIndex: number,
  directory: string,
): Promise<FetchedCopy> {
  const absent: FetchedCopy =
    ctx.driveConditions[driveIndex] === 'needs-rebuild' ? { state: 'unverified' } : { state: 'missing' };
  try {
    // The journal holds the drive's newest changes; the record database what was checkpointed
    // (and `meta` files, on drives written before the database existed).
    const journaled = await ctx.journals[driveIndex].lookup(directory);
    if (journaled !== undefined) {
      // The index is in memory: it must not answer for a drive that is gone.
      await ctx.drives[driveIndex].checkOnline();
      if (journaled.kind === 'removal') return absent;
      return { state: 'bytes', bytes: journaled.recordBytes };
    }
    const stored = await ctx.drives[driveIndex].readRecord(directory, { fallbackFile: versionRecordFile });
    return stored === null ? absent : { state: 'bytes', bytes: stored };
  } catch (error) {
    if (isDriveError(error, 'NOT_FOUND')) return absent;
    return { state: 'offline', error };
  }
}

/**
 * Decodes fetched bytes. `parsed` remembers the records already decoded from the same read: the
 * drives' copies of one write carry byte-identical JSON (only their inline shards differ), which
 * is then parsed once and shared. Records of copies are therefore never to be changed in place.
 */
function decodeCopy(ctx: SetContext, fetched: FetchedCopy, parsed: ParsedRecords): RecordCopy {
  if (fetched.state !== 'bytes') return fetched;
  try {
    const { record, inlinePayload } = decodeVersionRecord(fetched.bytes, parsed);
    const previous =
      record.previous === undefined
        ? null
        : {
            record: record.previous.record,
            inlinePayload: Buffer.from(record.previous.inlinePayloadBase64, 'base64'),
          };
    return { state: 'present', record, inlinePayload, previous };
  } catch (error) {
    ctx.metrics.corruptionsDetected += 1;
    return { state: 'corrupt', error };
  }
}

export async function readRecordCopy(
  ctx: SetContext,
  driveIndex: number,
  directory: string,
): Promise<RecordCopy> {
  return decodeCopy(ctx, await fetchRecordBytes(ctx, driveIndex, directory), []);
}

export async function readRecordCopies(ctx: SetContext, directory: string): Promise<RecordCopy[]> {
  const fetched = await Promise.all(
    ctx.drives.map((_, driveIndex) => fetchRecordBytes(ctx, driveIndex, directory)),
  );
  const parsed: ParsedRecords = [];
  return fetched.map((copy) => decodeCopy(ctx, copy, parsed));
}

export type Resolution =
  | {
      kind: 'found';
      record: VersionRecord;
      /** Drives whose copy (current or previous) has the winning dataId: their shards are usable. */
      holders: number[];
      /** The winning version's inline payload on each holder. */
      inlinePayloads: (Uint8Array | null)[];
      copies: RecordCopy[];
    }
  | { kind: 'absent'; copies: RecordCopy[] }
  | { kind: 'undecided'; copies: RecordCopy[] };

interface Member {
  driveIndex: number;
  record: VersionRecord;
  inlinePayload: Uint8Array;
}

export function resolveCopies(ctx: SetContext, copies: RecordCopy[]): Resolution {
  const groups = new Map<string, Member[]>();
  const join = (member: Member) => {
    const members = groups.get(member.record.dataId) ?? [];
    members.push(member);
    groups.set(member.record.dataId, members);
  };
  copies.forEach((copy, driveIndex) => {
    if (copy.state !== 'present') return;
    join({ driveIndex, record: copy.record, inlinePayload: copy.inlinePayload });
    if (copy.previous !== null && copy.previous.record.dataId !== copy.record.dataId) {
      join({ driveIndex, ...copy.previous });
    }
  });
  let best: Member[] | undefined;
  for (const members of groups.values()) {
    if (members.length < ctx.dataShards) continue;
    if (best === undefined || isNewer(members[0].record, best[0].record)) best = members;
  }
  if (best !== undefined) {
    const winner = best.reduce((a, b) => (b.record.metadataRevision > a.record.metadataRevision ? b : a));
    const { previous: _, ...record } = winner.record;
    const inlinePayloads: (Uint8Array | null)[] = copies.map(() => null);
    for (const member of best) inlinePayloads[member.driveIndex] = member.inlinePayload;
    return {
      kind: 'found',
      record,
      holders: best.map((member) => member.driveIndex),
      inlinePayloads,
      copies,
    };
  }
  const silent = copies.filter((copy) => copy.state !== 'present' && copy.state !== 'missing').length;
  const largestGroup = Math.max(0, ...[...groups.values()].map((members) => members.length));
  return largestGroup + silent < ctx.dataShards ? { kind: 'absent', copies } : { kind: 'undecided', copies };
}

function isNewer(a: VersionRecord, b: VersionRecord): boolean {
  return a.committedAtMs !== b.committedAtMs ? a.committedAtMs > b.committedAtMs : a.dataId > b.dataId;
}

/** The winning record, or NOT_FOUND / QUORUM_LOST. */
export function requireFound(resolution: Resolution, what: string): Extract<Resolution, { kind: 'found' }> {
  if (resolution.kind === 'found') return resolution;
  if (resolution.kind === 'absent') throw new StoreError('NOT_FOUND', `${what}: no such version`);
  const offline = resolution.copies.filter((copy) => copy.state === 'offline').length;
  throw new StoreError('QUORUM_LOST', `${what}: read quorum not reached (${offline} drives offline)`);
}
