// Metadata updates and deletes. Both run under the key's lock and need the write quorum.
import { commitOnDrive, removeVersionDirectory } from './commit.ts';
import type { SetContext } from './context.ts';
import { StoreError, writeQuorumError } from './errors.ts';
import type { VersionRecord } from './formats.ts';
import type { VersionAddress } from './layout.ts';
import { versionDirectory } from './layout.ts';
import { readRecordCopies, requireFound, resolveCopies } from './records.ts';

/**
 * Rewrites only the record (no data): each holder gets the new record with its own inline payload,
 * by the same rename commit as a write. If fewer than the write quorum succeed the call throws
 * QUORUM_LOST, but the drives that did take it keep it (as with any write whose outcome is
 * unknown): the object layer's merges are monotonic, so applying it again is safe.
 */
export async function updateRecords(
  ctx: SetContext,
  address: VersionAddress,
  update: (old: Record<string, unknown>) => Record<string, unknown>,
): Promise<VersionRecord> {
  const found = requireFound(
    resolveCopies(ctx, await readRecordCopies(ctx, versionDirectory(address))),
    'update',
  );
  if (found.holders.length < ctx.writeQuorum) {
    // Refuse up front rather than update a minority of drives and report a failure.
    throw new StoreError(
      'QUORUM_LOST',
      `update: ${found.holders.length} drives hold the version, ${ctx.writeQuorum} needed`,
    );
  }
  // Stored as JSON: what the caller gets back is what a later read returns.
  const metadata = JSON.parse(
    JSON.stringify(update(structuredClone(found.record.metadata))),
  ) as VersionRecord['metadata'];
  const record: VersionRecord = {
    ...found.record,
    metadata,
    metadataRevision: found.record.metadataRevision + 1,
    updatedAtMs: ctx.clock(),
  };
  const results = await Promise.allSettled(
    found.holders.map((driveIndex) => {
      const payload = found.inlinePayloads[driveIndex] ?? new Uint8Array(0);
      return commitOnDrive(ctx, driveIndex, ctx.randomUUID(), record, payload, false);
    }),
  );
  const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
  if (results.length - failures.length < ctx.writeQuorum) {
    throw writeQuorumError(failures, ctx.writeQuorum, 'update metadata');
  }
  if (failures.length > 0 || found.holders.length < ctx.driveCount) ctx.requestHeal(address);
  return record;
}

/**
 * Removes the version from every drive. NOT_FOUND when no drive has it; QUORUM_LOST when fewer
 * than the write quorum could confirm it is gone (the rest is removed by a later heal, because
 * a version on fewer than k drives does not exist).
 */
export async function deleteRecords(ctx: SetContext, address: VersionAddress): Promise<void> {
  const directory = versionDirectory(address);
  const copies = await readRecordCopies(ctx, directory);
  const resolution = resolveCopies(ctx, copies);
  if (resolution.kind === 'absent' && !copies.some((copy) => copy.state === 'present')) {
    throw new StoreError('NOT_FOUND', 'delete: no such version');
  }
  // Refuse up front rather than delete from a minority of drives and report a failure.
  const reachable = copies.filter((copy) => copy.state !== 'offline').length;
  if (reachable < ctx.writeQuorum) {
    throw new StoreError('QUORUM_LOST', `delete: only ${reachable} drives answer, ${ctx.writeQuorum} needed`);
  }
  const results = await Promise.allSettled(
    ctx.drives.map((_, driveIndex) => removeVersionDirectory(ctx, driveIndex, address)),
  );
  const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
  if (results.length - failures.length < ctx.writeQuorum) {
    throw writeQuorumError(failures, ctx.writeQuorum, 'delete');
  }
}
