// CopyObject (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html): the source
// version streams into a new version of the destination. x-amz-metadata-directive and
// x-amz-tagging-directive choose between the source's metadata and tags (COPY, the default) and the
// request's (REPLACE); a copy onto itself that changes nothing is refused by the layer as S3 does.
import { S3Error } from '../errors.ts';
import type { OperationContext, OperationHandler } from '../operation-context.ts';
import { discardRequestBody } from '../request-body.ts';
import { sendXml } from '../responses.ts';
import { xmlDocument } from '../xml.ts';
import { resolveCopySource } from './copy-source.ts';
import {
  readObjectLockHeaders,
  readStorageClass,
  readSystemHeaders,
  readTaggingHeader,
  readUserMetadata,
  readWriteConditions,
} from './object-attributes.ts';
import { clientGoneSignal } from './put-object.ts';
import { encryptionHeaders, readCopySourceCustomerKey, readCustomerKey } from './server-side-encryption.ts';
import { checksumElements, quoteEtag, versionIdHeader } from './version-headers.ts';

function readDirective(context: OperationContext, header: string, what: string): 'COPY' | 'REPLACE' {
  const value = context.header(header);
  if (value === undefined || value === 'COPY') return 'COPY';
  if (value === 'REPLACE') return 'REPLACE';
  throw new S3Error('InvalidArgument', {
    message: `Unknown ${what} directive.`,
    elements: { ArgumentName: header, ArgumentValue: value },
  });
}

export const handleCopyObject: OperationHandler<'CopyObject'> = async (context, endpoint) => {
  if (!context.request.complete) await discardRequestBody(context.request);
  const metadataDirective = readDirective(context, 'x-amz-metadata-directive', 'metadata');
  const taggingDirective = readDirective(context, 'x-amz-tagging-directive', 'tagging');
  const replaced =
    metadataDirective === 'REPLACE'
      ? { headers: readSystemHeaders(context), userMetadata: readUserMetadata(context) }
      : {};
  const tags = taggingDirective === 'REPLACE' ? (readTaggingHeader(context) ?? {}) : undefined;
  const source = resolveCopySource(context, endpoint.copySource);
  const { version, sourceVersionId } = await context.layer.copies.copyObject({
    // The version the conditions were checked against, even if a newer one lands meanwhile.
    source: { ...endpoint.copySource, bucket: source.bucket, versionId: source.versionId },
    bucket: endpoint.bucket,
    key: endpoint.key,
    metadataDirective,
    taggingDirective,
    ...replaced,
    tags,
    storageClass: readStorageClass(context),
    // The copy has the source's bytes, so a whole-object checksum still holds; a COMPOSITE one
    // describes parts the copy no longer has, and is dropped.
    checksum: source.checksum?.type === 'FULL_OBJECT' ? source.checksum : null,
    ...readObjectLockHeaders(context),
    ...readWriteConditions(context),
    signal: clientGoneSignal(context),
    customerKey: readCustomerKey(context),
    sourceCustomerKey: readCopySourceCustomerKey(context),
  });
  sendXml(
    context.response,
    200,
    xmlDocument('CopyObjectResult', [
      ['ETag', quoteEtag(version.etag)],
      ['LastModified', new Date(version.lastModifiedMs)],
      ...checksumElements(version.checksum, { withType: true }),
    ]),
    {
      ...context.commonHeaders,
      'x-amz-version-id': versionIdHeader(version.versionId, undefined, context.bucketRecord?.versioning),
      'x-amz-copy-source-version-id': versionIdHeader(sourceVersionId, endpoint.copySource.versionId),
      ...encryptionHeaders(version.encryption),
    },
  );
};
