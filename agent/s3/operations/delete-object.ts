// DeleteObject (https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html): 204, even for
// a key that never existed (unless the delete is conditional, below); in a versioned bucket a delete
// marker is created, or the named version removed, and the answer says which with x-amz-version-id
// and x-amz-delete-marker.
//
// Conditional deletes (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-deletes.html),
// as general purpose buckets have them since September 2025: If-Match: "<etag>" or "*" deletes only
// while the key's current object has that ETag, or exists ("Conditional delete evaluations only apply
// to the current version of the object"). Otherwise 412 PreconditionFailed, or 404 NoSuchKey when the
// key has no current object (none, or a delete marker), as S3 answers; the object layer decides it
// under the key lock. The API reference keeps x-amz-if-match-last-modified-time and
// x-amz-if-match-size to directory buckets, and S3 refuses If-Match with a versionId (as measured
// against S3 by others' conformance suites): NotImplemented, never ignored, since a caller that
// believes its delete is conditional must not lose the object to a condition nobody checked.
import { S3Error } from '../errors.ts';
import type { OperationContext, OperationHandler } from '../operation-context.ts';
import { roleMayBypassGovernance } from '../permissions.ts';
import { discardRequestBody } from '../request-body.ts';
import { sendEmpty } from '../responses.ts';

/** x-amz-bypass-governance-retention: "true" asks to delete a version under GOVERNANCE retention. */
export function bypassesGovernance(value: string | undefined): boolean {
  return value?.trim().toLowerCase() === 'true';
}

/**
 * Whether the request bypasses GOVERNANCE retention: it asks to (x-amz-bypass-governance-retention)
 * and its key may (S3's s3:BypassGovernanceRetention permission; here, a full key). A key that may
 * not is treated as not asking, so the retention then refuses the change with AccessDenied.
 */
export function governanceBypassOf(context: OperationContext): boolean {
  return (
    bypassesGovernance(context.header('x-amz-bypass-governance-retention')) &&
    roleMayBypassGovernance(context.caller.role)
  );
}

/** A conditional delete as a request states it: DeleteObject's headers, or a DeleteObjects <Object>. */
export interface DeleteConditions {
  versionId?: string;
  ifMatch?: string;
  /** Only their presence matters: general purpose buckets do not implement them. */
  lastModifiedTime?: string;
  size?: string;
}

/**
 * The condition a general purpose bucket does not implement, under the name the request gave it
 * (`names`), or undefined: x-amz-if-match-last-modified-time and x-amz-if-match-size ("This
 * functionality is only supported for directory buckets"), and If-Match with a versionId.
 */
export function unsupportedDeleteCondition<Name extends string>(
  conditions: DeleteConditions,
  names: { readonly [Field in 'ifMatch' | 'lastModifiedTime' | 'size']: Name },
): Name | undefined {
  if (conditions.lastModifiedTime !== undefined) return names.lastModifiedTime;
  if (conditions.size !== undefined) return names.size;
  if (conditions.ifMatch !== undefined && conditions.versionId !== undefined) return names.ifMatch;
  return undefined;
}

const conditionHeaders = {
  ifMatch: 'If-Match',
  lastModifiedTime: 'x-amz-if-match-last-modified-time',
  size: 'x-amz-if-match-size',
} as const;

export const handleDeleteObject: OperationHandler<'DeleteObject'> = async (context, endpoint) => {
  if (!context.request.complete) await discardRequestBody(context.request);
  const conditions: DeleteConditions = {
    versionId: endpoint.versionId,
    ifMatch: context.header('if-match'),
    lastModifiedTime: context.header(conditionHeaders.lastModifiedTime),
    size: context.header(conditionHeaders.size),
  };
  const unsupported = unsupportedDeleteCondition(conditions, conditionHeaders);
  if (unsupported !== undefined) throw new S3Error('NotImplemented', { elements: { Header: unsupported } });
  const result = await context.layer.objects.delete({
    bucket: endpoint.bucket,
    key: endpoint.key,
    versionId: endpoint.versionId,
    bypassGovernanceRetention: governanceBypassOf(context),
    ifMatch: conditions.ifMatch,
  });
  sendEmpty(context.response, 204, {
    ...context.commonHeaders,
    'x-amz-version-id': result.versionId,
    'x-amz-delete-marker': result.isDeleteMarker ? 'true' : undefined,
  });
};
