// DeleteObjects (https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html): up to 1000
// keys in one XML body, which must carry Content-MD5 or an x-amz-checksum-* (S3: "Missing required
// header for this request: Content-MD5"). Each key is deleted as DeleteObject would; a key that fails
// gets an <Error> entry while the others proceed. Quiet mode reports only the errors.
//
// Conditional deletes: an <Object>'s <ETag> is DeleteObject's If-Match for that key ("If the
// precondition fails, the response for that object is captured in the <Error> element of the response
// body"), evaluated by the same check under the key lock, so a key whose condition fails is left alone
// while the others are deleted. <LastModifiedTime> and <Size> ("only supported for directory buckets")
// and an <ETag> with a <VersionId> are that key's NotImplemented error, as DeleteObject refuses them.
import { checkKey } from '../endpoint-parameters.ts';
import { S3Error, toS3Error } from '../errors.ts';
import type { OperationContext, OperationHandler } from '../operation-context.ts';
import { sendXml } from '../responses.ts';
import { parseDelete, type XmlChildren, xmlDocument } from '../xml.ts';
import { readConfigurationXml } from './bucket-common.ts';
import { governanceBypassOf, unsupportedDeleteCondition } from './delete-object.ts';

/** Deletions run a few at a time: enough to overlap store I/O, bounded so one request cannot flood it. */
export const deleteObjectsConcurrency = 8;

const conditionElements = {
  ifMatch: 'ETag with VersionId',
  lastModifiedTime: 'LastModifiedTime',
  size: 'Size',
} as const;

function declaresIntegrity(context: OperationContext): boolean {
  if (context.header('content-md5') !== undefined) return true;
  if (context.header('x-amz-sdk-checksum-algorithm') !== undefined) return true;
  if ((context.header('x-amz-trailer') ?? '').toLowerCase().includes('x-amz-checksum-')) return true;
  return Object.keys(context.request.headers).some((name) => name.startsWith('x-amz-checksum-'));
}

type Outcome =
  | { key: string; versionId?: string; deleted: { versionId?: string; isDeleteMarker: boolean } }
  | { key: string; versionId?: string; error: S3Error };

function deletedChildren(outcome: Extract<Outcome, { deleted: unknown }>): XmlChildren {
  const { deleted } = outcome;
  if (outcome.versionId !== undefined) {
    return [
      ['Key', outcome.key],
      ['VersionId', outcome.versionId],
      ...(deleted.isDeleteMarker
        ? ([
            ['DeleteMarker', true],
            ['DeleteMarkerVersionId', outcome.versionId],
          ] as XmlChildren)
        : []),
    ];
  }
  return [
    ['Key', outcome.key],
    ...(deleted.isDeleteMarker
      ? ([
          ['DeleteMarker', true],
          ['DeleteMarkerVersionId', deleted.versionId],
        ] as XmlChildren)
      : []),
  ];
}

export const handleDeleteObjects: OperationHandler<'DeleteObjects'> = async (context, endpoint) => {
  if (!declaresIntegrity(context)) {
    throw new S3Error('InvalidRequest', { message: 'Missing required header for this request: Content-MD5' });
  }
  const request = parseDelete(await readConfigurationXml(context));
  const bypass = governanceBypassOf(context);
  const outcomes: Outcome[] = new Array(request.objects.length);
  let next = 0;
  const worker = async () => {
    while (next < request.objects.length) {
      const index = next++;
      const { key, versionId, etag, lastModifiedTime, size } = request.objects[index];
      try {
        checkKey(key);
        const conditions = { versionId, ifMatch: etag, lastModifiedTime, size };
        const unsupported = unsupportedDeleteCondition(conditions, conditionElements);
        if (unsupported !== undefined) {
          throw new S3Error('NotImplemented', {
            message: `An element you provided implies functionality that is not implemented: ${unsupported}`,
          });
        }
        const deleted = await context.layer.objects.delete({
          bucket: endpoint.bucket,
          key,
          versionId,
          bypassGovernanceRetention: bypass,
          ifMatch: etag,
        });
        outcomes[index] = { key, versionId, deleted };
      } catch (error) {
        outcomes[index] = { key, versionId, error: toS3Error(error) };
      }
    }
  };
  await Promise.all(Array.from({ length: deleteObjectsConcurrency }, worker));
  const children: XmlChildren = outcomes.flatMap((outcome): XmlChildren => {
    if ('error' in outcome) {
      return [
        [
          'Error',
          [
            ['Key', outcome.key],
            ['VersionId', outcome.versionId],
            ['Code', outcome.error.code],
            ['Message', outcome.error.message],
          ],
        ],
      ];
    }
    return request.quiet ? [] : [['Deleted', deletedChildren(outcome)]];
  });
  sendXml(context.response, 200, xmlDocument('DeleteResult', children), context.commonHeaders);
};
