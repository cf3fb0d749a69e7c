// Keeping the listing index true to the store: a full rebuild from the store's version metadata
// (when the index is missing, corrupt or asked for), and, at every open, the replay of the
// intents that a crash left between a store change and the index change that follows it.
import assert from 'node:assert/strict';
import { deleteIfPresent, type LayerContext, performDeletes, scheduleDeletes } from './context.ts';
import { clearIndex, markComplete } from './index-database.ts';
import { readManifest } from './manifest.ts';
import { uploadAddress } from './multipart.ts';
import { fromMetadata, type ObjectVersionRecord, systemBucket } from './records.ts';
import type { StoredVersion, VersionAddress } from './store.ts';

export interface RebuildReport {
  buckets: number;
  versions: number;
  uploads: number;
  parts: number;
  /** Store versions found superseded (an older duplicate "null" version) and deleted. */
  staleVersionsDeleted: number;
}

/** Rebuilds the whole index from the store. The caller holds every commit off (enterExclusive). */
export async function rebuildIndex(context: LayerContext): Promise<RebuildReport> {
  const report: RebuildReport = { buckets: 0, versions: 0, uploads: 0, parts: 0, staleVersionsDeleted: 0 };
  const stale: { address: VersionAddress; record: ObjectVersionRecord }[] = [];
  const { index } = context;
  // Deletions left unfinished go first, or the scan below would find and show those versions again.
  // (Every live operation finishes its deletions before it lets go of the gate the caller holds.)
  for (const intent of index.allIntents()) {
    if (intent.action !== 'delete') continue;
    await deleteIfPresent(context, intent.address);
    index.clearIntent(intent.id);
  }
  index.transaction(() => clearIndex(index.database));
  // One transaction per batch keeps memory bounded while the store streams a large listing.
  const batchSize = 10_000;
  let batch: StoredVersion[] = [];
  const flush = () => {
    index.transaction(() => {
      for (const stored of batch) indexStoredVersion(context, stored, stale, report);
    });
    batch = [];
  };
  for await (const stored of context.store.listVersions()) {
    batch.push(stored);
    if (batch.length >= batchSize) flush();
  }
  flush();
  const scheduled = index.transaction(
    () => {
      // Parts of completed uploads belong to their manifests now; parts of no upload are not listed.
      index.statement('DELETE FROM parts WHERE upload_id NOT IN (SELECT upload_id FROM uploads)').run();
      const finished = finishCompletedUploads(context);
      markComplete(index.database);
      return finished;
    },
    { durable: true },
  );
  await performDeletes(context, scheduled);
  for (const entry of stale) await deleteStaleVersion(context, entry.address, entry.record);
  report.staleVersionsDeleted = stale.length;
  return report;
}

/** Replays the intents a crash left behind: indexes committed writes, redoes deletions. */
export async function replayIntents(context: LayerContext): Promise<number> {
  const intents = context.index.allIntents();
  const stale: { address: VersionAddress; record: ObjectVersionRecord }[] = [];
  const report: RebuildReport = { buckets: 0, versions: 0, uploads: 0, parts: 0, staleVersionsDeleted: 0 };
  for (const intent of intents) {
    const stored = await context.store.statVersion(intent.address);
    if (intent.action === 'delete') {
      // The index already stopped showing it (same transaction as the intent): finish the store side.
      if (stored !== null) await deleteIfPresent(context, intent.address);
      context.index.clearIntent(intent.id);
      continue;
    }
    const scheduled = context.index.transaction(
      () => {
        if (stored !== null) indexStoredVersion(context, stored, stale, report);
        context.index.clearIntent(intent.id);
        const entry = stored === null ? null : fromMetadata(stored.metadata);
        const uploadId = entry?.kind === 'object-version' ? entry.record.multipart?.uploadId : undefined;
        return uploadId === undefined ? [] : finishCompletedUploads(context, uploadId);
      },
      { durable: true },
    );
    await performDeletes(context, scheduled);
  }
  for (const entry of stale) await deleteStaleVersion(context, entry.address, entry.record);
  return intents.length;
}

function indexStoredVersion(
  context: LayerContext,
  stored: StoredVersion,
  stale: { address: VersionAddress; record: ObjectVersionRecord }[],
  report: RebuildReport,
): void {
  const entry = fromMetadata(stored.metadata);
  if (entry === null) return; // not written by this layer
  const { index } = context;
  const storeVersionId = stored.address.versionId;
  switch (entry.kind) {
    case 'bucket':
      index.putBucket(entry.record, storeVersionId);
      report.buckets += 1;
      return;
    case 'upload':
      index.putUpload(entry.record);
      report.uploads += 1;
      return;
    case 'part':
      // A replaced part left behind by a crash stays in the store: it may be a manifest's part.
      index.putPart(entry.record, storeVersionId, 'keep-latest');
      report.parts += 1;
      return;
    case 'object-version': {
      assert.notEqual(stored.address.bucket, systemBucket, 'object versions never live in the system bucket');
      const outcome = index.putVersion(entry.record, storeVersionId);
      report.versions += 1;
      if (outcome.kind === 'superseded') stale.push({ address: stored.address, record: entry.record });
      if (outcome.kind === 'replaced') {
        const address = { ...stored.address, versionId: outcome.stale.storeVersionId };
        stale.push({ address, record: outcome.stale.record });
      }
      return;
    }
  }
}

/**
 * An upload whose manifest version is committed but which is still listed (a crash between the
 * two) is finished now: left listed, an abort would delete parts that the object reads.
 */
function finishCompletedUploads(context: LayerContext, onlyUploadId?: string) {
  const rows = (
    onlyUploadId !== undefined
      ? context.index.statement('SELECT upload_id FROM uploads WHERE upload_id = ?').all(onlyUploadId)
      : context.index
          .statement(
            `SELECT upload_id FROM uploads WHERE upload_id IN (SELECT json_extract(record, '$.multipart.uploadId')
               FROM versions WHERE json_extract(record, '$.multipart') IS NOT NULL)`,
          )
          .all()
  ) as { upload_id: string }[];
  const addresses = rows.map((row) => {
    context.index.removeUpload(row.upload_id);
    return uploadAddress(row.upload_id);
  });
  return scheduleDeletes(context, addresses);
}

async function deleteStaleVersion(
  context: LayerContext,
  address: VersionAddress,
  record: ObjectVersionRecord,
) {
  const addresses = [address];
  if (record.multipart !== null) {
    const manifest = await readManifest(context.store, address);
    addresses.push(...manifest.parts.map((part) => part.address));
  }
  const scheduled = context.index.transaction(() => scheduleDeletes(context, addresses), { durable: true });
  await performDeletes(context, scheduled);
}
