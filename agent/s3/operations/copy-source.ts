// What CopyObject and UploadPartCopy share: the source must be a bucket of the caller's own tenant
// (the dispatcher checked only the destination), and the x-amz-copy-source-if-* conditions, which S3
// evaluates like a conditional GET but answers every failure with 412 PreconditionFailed.
import type { ObjectVersionRecord } from '../../objects/records.ts';
import type { CopySource } from '../endpoint.ts';
import { S3Error, toS3Error } from '../errors.ts';
import type { OperationContext } from '../operation-context.ts';
import { evaluateReadConditions } from './read-conditions.ts';
import { readCopySourceCustomerKey } from './server-side-encryption.ts';

/** The source version a copy reads, after the tenant check and the copy-source conditions. */
export function resolveCopySource(context: OperationContext, source: CopySource): ObjectVersionRecord {
  let ownerTenantId: string;
  try {
    ownerTenantId = context.layer.buckets.head(source.bucket).ownerTenantId;
  } catch (error) {
    throw toS3Error(error);
  }
  // Another tenant's bucket is AccessDenied, never NoSuchBucket: a tenant cannot learn it exists.
  if (ownerTenantId !== context.caller.tenantId) throw new S3Error('AccessDenied');
  const record = context.layer.objects.head({ ...source, customerKey: readCopySourceCustomerKey(context) });
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
