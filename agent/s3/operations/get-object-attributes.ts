// GetObjectAttributes (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAttributes.html):
// what HeadObject and ListParts tell of one version, without its bytes, limited to the attributes
// that x-amz-object-attributes names ("Fields that you do not specify are not returned"). The
// version is resolved as HeadObject resolves it: a delete marker as the newest version is 404
// NoSuchKey with x-amz-delete-marker, one named by versionId is 405; an SSE-C object needs its key.
import type { ManifestPartsPage } from '../../objects/manifest.ts';
import type { ChecksumRecord, ObjectVersionRecord } from '../../objects/records.ts';
import type { ObjectAttributeName } from '../endpoint.ts';
import type { OperationHandler, OperationOf } from '../operation-context.ts';
import { discardRequestBody } from '../request-body.ts';
import { sendXml } from '../responses.ts';
import type { XmlChildren } from '../xml.ts';
import { xmlDocument } from '../xml.ts';
import { readCustomerKey } from './server-side-encryption.ts';
import { checksumElements, httpDate, versionIdHeader } from './version-headers.ts';

/**
 * The object's checksum as GetObjectAttributes writes it: a COMPOSITE value without the "-<parts>"
 * suffix that GetObject and HeadObject show (the count is in ObjectParts; as S3 answers, recorded
 * in localstack/localstack's AWS-validated snapshots of GetObjectAttributes and in a capture from
 * real S3 in floci-io/floci issue #3083).
 */
function checksumChildren(checksum: ChecksumRecord): XmlChildren {
  const value = checksum.type === 'COMPOSITE' ? checksum.value.replace(/-\d+$/, '') : checksum.value;
  return checksumElements({ ...checksum, value }, { withType: true });
}

/**
 * ObjectParts, for an object uploaded in parts only. "If an additional checksum ... isn't applied to
 * the object specified in the request, the response doesn't return the Part element"
 * (API_GetObjectAttributesParts); S3 lists the parts, as ListParts pages them, of a COMPOSITE
 * checksum only (a FULL_OBJECT one is not made of the parts'), and otherwise answers the count alone.
 */
async function objectPartsChildren(
  record: ObjectVersionRecord,
  listParts: () => Promise<ManifestPartsPage>,
  endpoint: OperationOf<'GetObjectAttributes'>,
): Promise<XmlChildren | undefined> {
  if (record.multipart === null) return undefined;
  // The element is PartsCount (the SDKs' TotalPartsCount is read from it, per S3's service model).
  const total: XmlChildren = [['PartsCount', record.multipart.partCount]];
  if (record.checksum?.type !== 'COMPOSITE') return total;
  const page = await listParts();
  const parts: XmlChildren = page.parts.map((part) => [
    'Part',
    [
      ['PartNumber', part.partNumber],
      ['Size', part.sizeBytes],
      ...checksumElements(part.checksum, { withType: false }),
    ],
  ]);
  return [
    ...total,
    ['PartNumberMarker', endpoint.partNumberMarker ?? 0],
    ['NextPartNumberMarker', page.nextPartNumberMarker ?? page.parts.at(-1)?.partNumber ?? 0],
    ['MaxParts', endpoint.maxParts],
    ['IsTruncated', page.isTruncated],
    ...parts,
  ];
}

export const handleGetObjectAttributes: OperationHandler<'GetObjectAttributes'> = async (
  context,
  endpoint,
) => {
  if (!context.request.complete) await discardRequestBody(context.request);
  const indexed = context.layer.objects.headIndexed({
    bucket: endpoint.bucket,
    key: endpoint.key,
    versionId: endpoint.versionId,
    customerKey: readCustomerKey(context),
  });
  const record = indexed.record;
  const asked = (name: ObjectAttributeName) => endpoint.attributes.includes(name);
  const listParts = () =>
    context.layer.objects.listVersionParts({
      resolved: indexed,
      partNumberMarker: endpoint.partNumberMarker ?? 0,
      maxParts: endpoint.maxParts,
    });
  const children: XmlChildren = [
    // Unquoted, unlike the ETag header and every other document's <ETag> (the API reference's example).
    ['ETag', asked('ETag') ? record.etag : undefined],
    [
      'Checksum',
      asked('Checksum') && record.checksum !== null ? checksumChildren(record.checksum) : undefined,
    ],
    [
      'ObjectParts',
      asked('ObjectParts') ? await objectPartsChildren(record, listParts, endpoint) : undefined,
    ],
    ['StorageClass', asked('StorageClass') ? record.storageClass : undefined],
    ['ObjectSize', asked('ObjectSize') ? record.sizeBytes : undefined],
  ];
  sendXml(context.response, 200, xmlDocument('GetObjectAttributesResponse', children), {
    ...context.commonHeaders,
    'Last-Modified': httpDate(record.lastModifiedMs),
    'x-amz-version-id': versionIdHeader(
      record.versionId,
      endpoint.versionId,
      context.bucketRecord?.versioning,
    ),
  });
};
