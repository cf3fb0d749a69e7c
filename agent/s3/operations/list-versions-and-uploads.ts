// ListObjectVersions (every version and delete marker, newest first within a key, Version and
// DeleteMarker entries interleaved in listing order) and ListMultipartUploads (uploads in progress, in
// key order then by initiation).
import type { ListedVersion, ListObjectVersionsResult } from '../../objects/listing.ts';
import type { ListUploadsResult } from '../../objects/multipart.ts';
import { type OperationContext, type OperationHandler, s3BucketName } from '../operation-context.ts';
import { sendXml } from '../responses.ts';
import { type XmlChildren, xmlDocument } from '../xml.ts';
import { listingText, ownerChildren, quotedEtag } from './bucket-common.ts';

function versionEntry(
  context: OperationContext,
  version: ListedVersion,
  encodingType: 'url' | undefined,
): readonly [string, XmlChildren] {
  const identity = [
    ['Key', listingText(version.key, encodingType)],
    ['VersionId', version.versionId],
    ['IsLatest', version.isLatest],
    ['LastModified', new Date(version.lastModifiedMs)],
  ] as const;
  if (version.isDeleteMarker)
    return ['DeleteMarker', [...identity, ['Owner', ownerChildren(context.caller)]]];
  return [
    'Version',
    [
      ...identity,
      ['ETag', quotedEtag(version.etag)],
      ['Size', version.sizeBytes],
      ['Owner', ownerChildren(context.caller)],
      ['StorageClass', version.storageClass],
    ],
  ];
}

function commonPrefixEntries(prefixes: readonly string[], encodingType: 'url' | undefined): XmlChildren {
  return prefixes.map(
    (prefix) => ['CommonPrefixes', [['Prefix', listingText(prefix, encodingType)]]] as const,
  );
}

/** The answers to max-keys=0 and max-uploads=0, whatever the bucket holds. */
const emptyVersionsPage: ListObjectVersionsResult = { versions: [], commonPrefixes: [], isTruncated: false };
const emptyUploadsPage: ListUploadsResult = { uploads: [], commonPrefixes: [], isTruncated: false };

export const handleListObjectVersions: OperationHandler<'ListObjectVersions'> = async (context, endpoint) => {
  const { encodingType } = endpoint;
  // S3 answers max-keys=0 with an empty page that is not truncated.
  const result =
    endpoint.maxKeys === 0
      ? emptyVersionsPage
      : context.layer.listing.listObjectVersions({
          bucket: endpoint.bucket,
          prefix: endpoint.prefix,
          delimiter: endpoint.delimiter,
          maxKeys: endpoint.maxKeys,
          keyMarker: endpoint.keyMarker,
          versionIdMarker: endpoint.versionIdMarker,
        });
  const xml = xmlDocument('ListVersionsResult', [
    ['Name', s3BucketName(context)],
    ['Prefix', listingText(endpoint.prefix, encodingType)],
    ['KeyMarker', listingText(endpoint.keyMarker ?? '', encodingType)],
    ['VersionIdMarker', endpoint.versionIdMarker ?? ''],
    ['NextKeyMarker', listingText(result.nextKeyMarker, encodingType)],
    ['NextVersionIdMarker', result.nextVersionIdMarker],
    ['MaxKeys', endpoint.maxKeys],
    ['Delimiter', listingText(endpoint.delimiter, encodingType)],
    ['EncodingType', encodingType],
    ['IsTruncated', result.isTruncated],
    ...result.versions.map((version) => versionEntry(context, version, encodingType)),
    ...commonPrefixEntries(result.commonPrefixes, encodingType),
  ]);
  sendXml(context.response, 200, xml, context.commonHeaders);
};

export const handleListMultipartUploads: OperationHandler<'ListMultipartUploads'> = async (
  context,
  endpoint,
) => {
  const { encodingType } = endpoint;
  const result =
    endpoint.maxUploads === 0
      ? emptyUploadsPage
      : context.layer.multipart.listUploads({
          bucket: endpoint.bucket,
          prefix: endpoint.prefix,
          delimiter: endpoint.delimiter,
          maxUploads: endpoint.maxUploads,
          keyMarker: endpoint.keyMarker,
          uploadIdMarker: endpoint.uploadIdMarker,
        });
  const xml = xmlDocument('ListMultipartUploadsResult', [
    ['Bucket', s3BucketName(context)],
    ['KeyMarker', listingText(endpoint.keyMarker ?? '', encodingType)],
    ['UploadIdMarker', endpoint.uploadIdMarker ?? ''],
    ['NextKeyMarker', listingText(result.nextKeyMarker, encodingType)],
    ['NextUploadIdMarker', result.nextUploadIdMarker],
    ['Delimiter', listingText(endpoint.delimiter, encodingType)],
    ['Prefix', listingText(endpoint.prefix, encodingType)],
    ['MaxUploads', endpoint.maxUploads],
    ['EncodingType', encodingType],
    ['IsTruncated', result.isTruncated],
    ...result.uploads.map(
      (upload) =>
        [
          'Upload',
          [
            ['Key', listingText(upload.key, encodingType)],
            ['UploadId', upload.uploadId],
            ['Initiator', ownerChildren(context.caller)],
            ['Owner', ownerChildren(context.caller)],
            ['StorageClass', upload.storageClass],
            ['Initiated', new Date(upload.initiatedMs)],
            ['ChecksumAlgorithm', upload.checksumAlgorithm ?? undefined],
          ],
        ] as const,
    ),
    ...commonPrefixEntries(result.commonPrefixes, encodingType),
  ]);
  sendXml(context.response, 200, xml, context.commonHeaders);
};
