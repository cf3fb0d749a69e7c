// What CopyObject and UploadPartCopy share: the source bucket is named in the caller's own
// namespace, like the destination (the dispatcher resolved only the destination), and the x-amz-copy-source-if-* conditions, which S3
// evaluates like a conditional GET but answers every failure with 412 PreconditionFailed.
import { isObjectError } from '../../objects/errors.ts';
import type { ObjectVersionRecord } from '../../objects/records.ts';
import type { CopySource } from '../endpoint.ts';
import { S3Error } from '../errors.ts';
import type { OperationContext } from '../operation-context.ts';
import { evaluateReadConditions } from './read-conditions.ts';
import { readCopySourceCustomerKey } from './server-side-encryption.ts';

/**
 * The source version a copy reads, after the copy-source conditions; its `bucket` is the source
 * bucket's id. A source bucket the caller's tenant has no bucket of that name for is NoSuchBucket,
 * whether or not another tenant has one (which is not addressable).
 */
export function resolveCopySource(context: OperationContext, source: CopySource): ObjectVersionRecord {
  const sourceBucket = context.layer.buckets.find(context.caller.tenantId, source.bucket);
  if (sourceBucket === undefined)
    throw new S3Error('NoSuchBucket', { elements: { BucketName: source.bucket } });
  const record = headOfSource(() =>
    context.layer.objects.head({
      ...source,
      bucket: sourceBucket.id,
      customerKey: readCopySourceCustomerKey(context),
    }),
  );
  const outcome = evaluateReadConditions(
    {
      ifMatch: context.header('x-amz-copy-source-if-match'),
      ifNoneMatch: context.header('x-amz-copy-source-if-none-match'),
      ifModifiedSince: context.header('x-amz-copy-source-if-modified-since'),
      ifUnmodifiedSince: context.header('x-amz-copy-source-if-unmodified-since'),
    },
    record,
  );
  if (outcome !== 'proceed') throw new S3Error('PreconditionFailed');
  return record;
}

/**
 * A source named by the version id of a delete marker is InvalidRequest, in S3's words: reading that
 * version is MethodNotAllowed, whose delete-marker headers would describe the copy wrongly.
 */
function headOfSource(head: () => ObjectVersionRecord): ObjectVersionRecord {
  try {
    return head();
  } catch (error) {
    if (isObjectError(error, 'MethodNotAllowed') && error.details.isDeleteMarker) {
      throw new S3Error('InvalidRequest', {
        message: 'The source of a copy request may not specifically refer to a delete marker by version id.',
      });
    }
    throw error;
  }
}
