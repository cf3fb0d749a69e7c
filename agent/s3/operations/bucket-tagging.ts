// GetBucketTagging, PutBucketTagging, DeleteBucketTagging
// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketTagging.html): the bucket's whole tag
// set, kept in its record by the object layer (Buckets.setTags). Up to 50 tags, keys up to 128
// characters and values up to 256, keys unique (InvalidTag otherwise). S3 checks each tag before the
// count, and answers too many with 400 BadRequest "Bucket tag count cannot be greater than 50". A bucket
// without tags answers 404 NoSuchTagSet.
import { maximumBucketTags } from '../../objects/validation.ts';
import { S3Error } from '../errors.ts';
import type { OperationHandler } from '../operation-context.ts';
import { sendEmpty, sendXml } from '../responses.ts';
import { parseTagging, taggingDocument } from '../xml.ts';
import { checkedBucket } from './bucket-basics.ts';
import { readConfigurationXml, requireBodyIntegrityHeader } from './bucket-common.ts';
import { checkTagEntries } from './object-attributes.ts';

export const handleGetBucketTagging: OperationHandler<'GetBucketTagging'> = async (context, endpoint) => {
  const tags = context.layer.buckets.getTags(endpoint.bucket);
  sendXml(context.response, 200, taggingDocument(tags), context.commonHeaders);
};

/** S3 requires an integrity check of this body (Content-MD5 or x-amz-checksum-*); answered 204. */
export const handlePutBucketTagging: OperationHandler<'PutBucketTagging'> = async (context, endpoint) => {
  checkedBucket(context);
  requireBodyIntegrityHeader(context);
  // Each tag is checked before the count (the body's size bounds it), as S3 does.
  const parsed = parseTagging(await readConfigurationXml(context));
  const tags = checkTagEntries(parsed.map((tag) => [tag.key, tag.value] as const));
  if (parsed.length > maximumBucketTags) {
    throw new S3Error('BadRequest', {
      message: `Bucket tag count cannot be greater than ${maximumBucketTags}`,
    });
  }
  await context.layer.buckets.setTags(endpoint.bucket, tags);
  sendEmpty(context.response, 204, context.commonHeaders);
};

export const handleDeleteBucketTagging: OperationHandler<'DeleteBucketTagging'> = async (
  context,
  endpoint,
) => {
  checkedBucket(context);
  await context.layer.buckets.setTags(endpoint.bucket, null);
  sendEmpty(context.response, 204, context.commonHeaders);
};
