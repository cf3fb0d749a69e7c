// ListObjects (v1) and ListObjectsV2: the current version of each key, in UTF-8 byte order, with keys
// that contain the delimiter after the prefix rolled up into CommonPrefixes. With encoding-type=url the
// key-like values (Key, Prefix, Delimiter, markers, StartAfter) come out URL-encoded, as S3 sends them.
import type { ListedObject, ListObjectsResult, ListObjectsV2Result } from '../../objects/listing.ts';
import { type OperationContext, type OperationHandler, s3BucketName } from '../operation-context.ts';
import { sendXml } from '../responses.ts';
import { type XmlChildren, xmlDocument } from '../xml.ts';
import { listingText, ownerChildren, quotedEtag } from './bucket-common.ts';

function contentsEntry(
  context: OperationContext,
  object: ListedObject,
  encodingType: 'url' | undefined,
  withOwner: boolean,
): readonly [string, XmlChildren] {
  return [
    'Contents',
    [
      ['Key', listingText(object.key, encodingType)],
      ['LastModified', new Date(object.lastModifiedMs)],
      ['ETag', quotedEtag(object.etag)],
      ['Size', object.sizeBytes],
      ['Owner', withOwner ? ownerChildren(context.caller) : undefined],
      ['StorageClass', object.storageClass],
    ],
  ];
}

function commonPrefixEntries(prefixes: readonly string[], encodingType: 'url' | undefined): XmlChildren {
  return prefixes.map(
    (prefix) => ['CommonPrefixes', [['Prefix', listingText(prefix, encodingType)]]] as const,
  );
}

/** The answer to max-keys=0, whatever the bucket holds. */
const emptyPage: ListObjectsResult & ListObjectsV2Result = {
  contents: [],
  commonPrefixes: [],
  isTruncated: false,
  keyCount: 0,
};

export const handleListObjects: OperationHandler<'ListObjects'> = async (context, endpoint) => {
  const { encodingType } = endpoint;
  // S3 answers max-keys=0 with an empty page that is not truncated (and so carries no marker).
  const result =
    endpoint.maxKeys === 0
      ? emptyPage
      : context.layer.listing.listObjects({
          bucket: endpoint.bucket,
          prefix: endpoint.prefix,
          delimiter: endpoint.delimiter,
          maxKeys: endpoint.maxKeys,
          marker: endpoint.marker,
        });
  const xml = xmlDocument('ListBucketResult', [
    ['Name', s3BucketName(context)],
    ['Prefix', listingText(endpoint.prefix, encodingType)],
    ['Marker', listingText(endpoint.marker ?? '', encodingType)],
    // S3 sends NextMarker only when a delimiter was given; without one the last key is the marker.
    ['NextMarker', listingText(result.nextMarker, encodingType)],
    ['MaxKeys', endpoint.maxKeys],
    ['Delimiter', listingText(endpoint.delimiter, encodingType)],
    ['EncodingType', encodingType],
    ['IsTruncated', result.isTruncated],
    ...result.contents.map((object) => contentsEntry(context, object, encodingType, true)),
    ...commonPrefixEntries(result.commonPrefixes, encodingType),
  ]);
  sendXml(context.response, 200, xml, context.commonHeaders);
};

export const handleListObjectsV2: OperationHandler<'ListObjectsV2'> = async (context, endpoint) => {
  const { encodingType } = endpoint;
  const result =
    endpoint.maxKeys === 0
      ? emptyPage
      : context.layer.listing.listObjectsV2({
          bucket: endpoint.bucket,
          prefix: endpoint.prefix,
          delimiter: endpoint.delimiter,
          maxKeys: endpoint.maxKeys,
          startAfter: endpoint.startAfter,
          continuationToken: endpoint.continuationToken,
        });
  const xml = xmlDocument('ListBucketResult', [
    ['Name', s3BucketName(context)],
    ['Prefix', listingText(endpoint.prefix, encodingType)],
    ['ContinuationToken', endpoint.continuationToken],
    ['NextContinuationToken', result.nextContinuationToken],
    ['KeyCount', result.keyCount],
    ['MaxKeys', endpoint.maxKeys],
    ['Delimiter', listingText(endpoint.delimiter, encodingType)],
    ['EncodingType', encodingType],
    ['IsTruncated', result.isTruncated],
    ['StartAfter', listingText(endpoint.startAfter, encodingType)],
    // S3 V2 leaves the owner out unless fetch-owner=true.
    ...result.contents.map((object) => contentsEntry(context, object, encodingType, endpoint.fetchOwner)),
    ...commonPrefixEntries(result.commonPrefixes, encodingType),
  ]);
  sendXml(context.response, 200, xml, context.commonHeaders);
};
