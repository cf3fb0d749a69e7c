// DeleteObject (https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html): 204 in every
// case, even for a key that never existed; in a versioned bucket a delete marker is created, or the
// named version removed, and the answer says which with x-amz-version-id and x-amz-delete-marker.
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

export const handleDeleteObject: OperationHandler<'DeleteObject'> = async (context, endpoint) => {
  if (!context.request.complete) await discardRequestBody(context.request);
  const result = await context.layer.objects.delete({
    bucket: endpoint.bucket,
    key: endpoint.key,
    versionId: endpoint.versionId,
    bypassGovernanceRetention: governanceBypassOf(context),
  });
  sendEmpty(context.response, 204, {
    ...context.commonHeaders,
    'x-amz-version-id': result.versionId,
    'x-amz-delete-marker': result.isDeleteMarker ? 'true' : undefined,
  });
};
