// Serving Veeam's SOSAPI virtual objects (sosapi.ts): GET and HEAD of system.xml and capacity.xml in
// every bucket, and their entries in listings whose prefix reaches into their folder. The
// dispatcher asks `serveSosapiObject` first for a GET or HEAD, and lists through `withSosapiListing`.
// Capacity is the tenant's (or the bucket's) quota and its real stored bytes from the usage ledger;
// without a quota, the drives' space.
import type { ListedObject, ListedVersion, Listing } from '../../objects/listing.ts';
import type { ObjectLayer } from '../../objects/object-layer.ts';
import type { BucketRecord } from '../../objects/records.ts';
import type { Endpoint } from '../endpoint.ts';
import type { OperationContext } from '../operation-context.ts';
import { sendEmpty, sendXml } from '../responses.ts';
import {
  type CapacityFigures,
  capacityDocument,
  capacityFigures,
  type SosapiObject,
  sosapiObject,
  sosapiTarget,
  systemDocument,
} from './sosapi.ts';
import { httpDate, quoteEtag } from './version-headers.ts';

export interface SosapiServingOptions {
  /** The ModelName Veeam shows, e.g. "Coffre 0.1.0". */
  modelName: string;
  /** Raw free and total bytes of the storage, for a tenant without quota. */
  storageSpace?: () => Promise<{ totalBytes: number; freeBytes: number }>;
}

async function capacityOf(
  layer: ObjectLayer,
  bucket: BucketRecord,
  options: SosapiServingOptions,
): Promise<CapacityFigures> {
  const bucketQuota = layer.admission.quotaOfBucket(bucket.id);
  const quotaBytes = bucketQuota ?? layer.admission.quotaOfTenant(bucket.ownerTenantId);
  const usedBytes =
    bucketQuota !== null
      ? layer.usage.storedBytesOfBucket(bucket.id)
      : layer.usage.storedBytesOfTenant(bucket.ownerTenantId);
  const space = quotaBytes === null ? await options.storageSpace?.() : undefined;
  return capacityFigures({
    quotaBytes,
    usedBytes,
    storageTotalBytes: space?.totalBytes ?? 0,
    storageFreeBytes: space?.freeBytes ?? 0,
  });
}

async function documentOf(
  name: 'system.xml' | 'capacity.xml',
  layer: ObjectLayer,
  bucket: BucketRecord,
  options: SosapiServingOptions,
): Promise<SosapiObject> {
  if (name === 'system.xml') return sosapiObject(name, systemDocument({ modelName: options.modelName }));
  return sosapiObject(name, capacityDocument(await capacityOf(layer, bucket, options)));
}

/** Answers a GET or HEAD of a SOSAPI object; false when the request is not about one. */
export async function serveSosapiObject(
  context: OperationContext,
  endpoint: Endpoint,
  options: SosapiServingOptions,
): Promise<boolean> {
  if (endpoint.operation !== 'GetObject' && endpoint.operation !== 'HeadObject') return false;
  if (endpoint.partNumber !== undefined || context.bucketRecord === undefined) return false;
  const target = sosapiTarget({
    operation: endpoint.operation,
    key: endpoint.key,
    versionId: endpoint.versionId,
  });
  if (target?.kind !== 'object') return false;
  const object = await documentOf(target.name, context.layer, context.bucketRecord, options);
  const headers = {
    ...context.commonHeaders,
    'Content-Type': object.contentType,
    ETag: quoteEtag(object.etag),
    'Last-Modified': httpDate(context.clock()),
  };
  if (endpoint.operation === 'HeadObject') {
    sendEmpty(context.response, 200, { ...headers, 'Content-Length': object.body.length });
  } else {
    sendXml(context.response, 200, object.body.toString('utf8'), headers);
  }
  return true;
}

/**
 * The layer a listing runs against: for a listing whose prefix reaches the SOSAPI folder, one whose
 * results also hold the virtual objects (as keys or as their folder's common prefix), in key order.
 */
export async function withSosapiListing(
  layer: ObjectLayer,
  endpoint: Endpoint,
  bucket: BucketRecord | undefined,
  options: SosapiServingOptions,
  nowMs: number,
): Promise<ObjectLayer> {
  if (
    bucket === undefined ||
    (endpoint.operation !== 'ListObjects' &&
      endpoint.operation !== 'ListObjectsV2' &&
      endpoint.operation !== 'ListObjectVersions')
  ) {
    return layer;
  }
  const target = sosapiTarget({ operation: endpoint.operation, prefix: endpoint.prefix });
  if (target?.kind !== 'listing') return layer;
  const virtual: ListedObject[] = [];
  for (const key of target.keys) {
    const object = await documentOf(
      key.endsWith('system.xml') ? 'system.xml' : 'capacity.xml',
      layer,
      bucket,
      options,
    );
    virtual.push({
      key,
      lastModifiedMs: nowMs,
      etag: object.etag,
      sizeBytes: object.body.length,
      storageClass: 'STANDARD',
    });
  }
  const listing = layer.listing;
  const overrides: Pick<Listing, 'listObjects' | 'listObjectsV2' | 'listObjectVersions'> = {
    listObjects: (input) =>
      merged(listing.listObjects(input), virtual, input.prefix, input.delimiter, input.marker),
    listObjectsV2: (input) => {
      // A continuation token means the first page (where the few virtual keys go) was served.
      const after = input.continuationToken === undefined ? input.startAfter : '\uffff';
      const result = merged(listing.listObjectsV2(input), virtual, input.prefix, input.delimiter, after);
      return { ...result, keyCount: result.contents.length + result.commonPrefixes.length };
    },
    listObjectVersions: (input) => {
      const result = listing.listObjectVersions(input);
      const versions: ListedVersion[] = virtual.map((entry) => ({
        ...entry,
        versionId: 'null',
        isLatest: true,
        isDeleteMarker: false,
      }));
      const extra = selectVirtual(versions, input.prefix, input.delimiter, input.keyMarker);
      return {
        ...result,
        versions: [...result.versions, ...extra.contents].sort(byKey),
        commonPrefixes: union(result.commonPrefixes, extra.commonPrefixes),
      };
    },
  };
  // Every other call goes to the real listing, bound to it (it keeps private state).
  const decorated = new Proxy(listing, {
    get(target, property) {
      if (property in overrides) return overrides[property as keyof typeof overrides];
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { ...layer, listing: decorated };
}

function byKey(left: { key: string }, right: { key: string }): number {
  return left.key < right.key ? -1 : left.key > right.key ? 1 : 0;
}

function union(left: string[], right: string[]): string[] {
  return [...new Set([...left, ...right])].sort();
}

/** The virtual entries a page shows: after the marker, as keys or rolled up at the delimiter. */
function selectVirtual<Entry extends { key: string }>(
  entries: Entry[],
  prefix: string | undefined,
  delimiter: string | undefined,
  after: string | undefined,
): { contents: Entry[]; commonPrefixes: string[] } {
  const contents: Entry[] = [];
  const commonPrefixes: string[] = [];
  const start = prefix ?? '';
  for (const entry of entries) {
    if (after !== undefined && entry.key <= after) continue;
    const cut = delimiter ? entry.key.indexOf(delimiter, start.length) : -1;
    if (cut === -1) contents.push(entry);
    else commonPrefixes.push(entry.key.slice(0, cut + delimiter!.length));
  }
  return { contents, commonPrefixes };
}

function merged<Result extends { contents: ListedObject[]; commonPrefixes: string[] }>(
  result: Result,
  virtual: ListedObject[],
  prefix: string | undefined,
  delimiter: string | undefined,
  after: string | undefined,
): Result {
  const extra = selectVirtual(virtual, prefix, delimiter, after);
  const contents = [
    ...result.contents.filter((entry) => !extra.contents.some((v) => v.key === entry.key)),
    ...extra.contents,
  ];
  return {
    ...result,
    contents: contents.sort(byKey),
    commonPrefixes: union(result.commonPrefixes, extra.commonPrefixes),
  };
}
