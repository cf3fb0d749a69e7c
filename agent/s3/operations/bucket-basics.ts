// HeadBucket, DeleteBucket and GetBucketLocation: the bucket operations that carry no configuration
// body.
import assert from 'node:assert/strict';
import type { BucketRecord } from '../../objects/records.ts';
import type { OperationContext, OperationHandler } from '../operation-context.ts';
import { sendEmpty, sendXml } from '../responses.ts';
import { escapeXml, s3Namespace } from '../xml.ts';

/** The handler checked the bucket and its owner before dispatch; every operation here needs it. */
export function checkedBucket(context: OperationContext): BucketRecord {
  assert.ok(context.bucketRecord, 'a bucket operation is dispatched with its checked bucket record');
  return context.bucketRecord;
}

export const handleHeadBucket: OperationHandler<'HeadBucket'> = async (context) => {
  const bucket = checkedBucket(context);
  sendEmpty(context.response, 200, {
    ...context.commonHeaders,
    'x-amz-bucket-region': bucket.region,
    'x-amz-access-point-alias': 'false',
  });
};

export const handleDeleteBucket: OperationHandler<'DeleteBucket'> = async (context, endpoint) => {
  await context.layer.buckets.delete(endpoint.bucket);
  sendEmpty(context.response, 204, context.commonHeaders);
};

/**
 * GetBucketLocation answers a LocationConstraint element whose text is the region (S3 leaves it empty
 * for us-east-1 only; Coffre's regions are never that one).
 */
export const handleGetBucketLocation: OperationHandler<'GetBucketLocation'> = async (context) => {
  const region = checkedBucket(context).region;
  const constraint = region === 'us-east-1' ? '' : escapeXml(region);
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="${s3Namespace}">${constraint}</LocationConstraint>`;
  sendXml(context.response, 200, xml, context.commonHeaders);
};
