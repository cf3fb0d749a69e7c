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
import { decodeVersionRecord, type VersionRecord } from './formats.ts';
import { versionRecordFile } from './layout.ts';

export type RecordCopy =
  | { state: 'present'; record: VersionRecord; inlinePayload: Uint8Array }
  | { state: 'missing' }
  | { state: 'offline'; error: unknown }
  | { state: 'corrupt'; error: unknown };

export async function readRecordCopy(
  ctx: SetContext,
  driveIndex: number,
  directory: string,
): Promise<RecordCopy> {
  let bytes: Uint8Array;
  try {
    bytes = await ctx.drives[driveIndex].readFile(`${directory}/${versionRecordFile}`);
  } catch (error) {
    if (isDriveError(error, 'NOT_FOUND')) return { state: 'missing' };
    return { state: 'offline', error };
  }
  try {
    return { state: 'present', ...decodeVersionRecord(bytes) };
  } catch (error) {
    ctx.metrics.corruptionsDetected += 1;
    return { state: 'corrupt', error };
  }
}

export function readRecordCopies(ctx: SetContext, directory: string): Promise<RecordCopy[]> {
  return Promise.all(ctx.drives.map((_, driveIndex) => readRecordCopy(ctx, driveIndex, directory)));
}

export type Resolution =
  | {
      kind: 'found';
      record: VersionRecord;
      /** Drives whose copy has the winning dataId (their shards are usable). */
      holders: number[];
      copies: RecordCopy[];
    }
  | { kind: 'absent'; copies: RecordCopy[] }
  | { kind: 'undecided'; copies: RecordCopy[] };

export function resolveCopies(ctx: SetContext, copies: RecordCopy[]): Resolution {
  const groups = new Map<string, number[]>();
  copies.forEach((copy, driveIndex) => {
    if (copy.state !== 'present') return;
    const members = groups.get(copy.record.dataId) ?? [];
    members.push(driveIndex);
    groups.set(copy.record.dataId, members);
  });
  const recordOf = (driveIndex: number): VersionRecord =>
    (copies[driveIndex] as Extract<RecordCopy, { state: 'present' }>).record;
  let best: number[] | undefined;
  for (const members of groups.values()) {
    if (members.length < ctx.dataShards) continue;
    if (best === undefined || isNewer(recordOf(members[0]), recordOf(best[0]))) best = members;
  }
  if (best !== undefined) {
    const record = best.map(recordOf).reduce((a, b) => (b.metadataRevision > a.metadataRevision ? b : a));
    return { kind: 'found', record, holders: best, copies };
  }
  const silent = copies.filter((copy) => copy.state === 'offline' || copy.state === 'corrupt').length;
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
