// The bucket access settings Coffre holds fixed, answered as S3 answers for a bucket created with S3's
// defaults since April 2023 (https://aws.amazon.com/about-aws/whats-new/2022/12/amazon-s3-automatically-enable-block-public-access-disable-access-control-lists-buckets-april-2023/):
// Object Ownership BucketOwnerEnforced (ACLs disabled), all four Block Public Access settings on, and
// no bucket policy. That is what Coffre is: no public access of any kind, no bucket policies, every
// object the bucket owner's. A PUT asking for exactly that is answered as done; one asking for
// anything else is NotImplemented (the feature does not exist here), never silently ignored.
import { parseOwnershipControls, parsePublicAccessBlock } from '../bucket-settings-xml.ts';
import { S3Error } from '../errors.ts';
import type { OperationHandler } from '../operation-context.ts';
import { sendEmpty, sendXml } from '../responses.ts';
import { xmlDocument } from '../xml.ts';
import { checkedBucket } from './bucket-basics.ts';
import { readConfigurationXml, requireBodyIntegrityHeader } from './bucket-common.ts';

export const handleGetBucketOwnershipControls: OperationHandler<'GetBucketOwnershipControls'> = async (
  context,
) => {
  checkedBucket(context);
  const xml = xmlDocument('OwnershipControls', [['Rule', [['ObjectOwnership', 'BucketOwnerEnforced']]]]);
  sendXml(context.response, 200, xml, context.commonHeaders);
};

/** S3 requires an integrity check of this body (Content-MD5 or x-amz-checksum-*), as for CORS. */
export const handlePutBucketOwnershipControls: OperationHandler<'PutBucketOwnershipControls'> = async (
  context,
) => {
  checkedBucket(context);
  requireBodyIntegrityHeader(context);
  const ownership = parseOwnershipControls(await readConfigurationXml(context));
  if (ownership !== 'BucketOwnerEnforced') {
    throw new S3Error('NotImplemented', {
      message: 'ACLs are not available: every bucket uses the BucketOwnerEnforced object ownership.',
    });
  }
  sendEmpty(context.response, 200, context.commonHeaders);
};

export const handleGetPublicAccessBlock: OperationHandler<'GetPublicAccessBlock'> = async (context) => {
  checkedBucket(context);
  const xml = xmlDocument('PublicAccessBlockConfiguration', [
    ['BlockPublicAcls', true],
    ['IgnorePublicAcls', true],
    ['BlockPublicPolicy', true],
    ['RestrictPublicBuckets', true],
  ]);
  sendXml(context.response, 200, xml, context.commonHeaders);
};

/** All four settings on is what every bucket has; an absent setting reads as false, as in S3. */
export const handlePutPublicAccessBlock: OperationHandler<'PutPublicAccessBlock'> = async (context) => {
  checkedBucket(context);
  requireBodyIntegrityHeader(context);
  const settings = parsePublicAccessBlock(await readConfigurationXml(context));
  if (!Object.values(settings).every(Boolean)) {
    throw new S3Error('NotImplemented', {
      message: 'Public access is not available: every bucket blocks all public access.',
    });
  }
  sendEmpty(context.response, 200, context.commonHeaders);
};

/** S3 answers a bucket without a policy with 404 NoSuchBucketPolicy; no bucket here has one. */
export const handleGetBucketPolicy: OperationHandler<'GetBucketPolicy'> = async (context) => {
  throw new S3Error('NoSuchBucketPolicy', { elements: { BucketName: checkedBucket(context).name } });
};

/**
 * The policy status is that of the bucket policy: S3 answers GetBucketPolicyStatus on a bucket without
 * one with the same 404 NoSuchBucketPolicy, not with an IsPublic false (as S3's answers logged by
 * cloudquery, issue 12163, and in CloudTrail show), and inventory tools take it as "no public policy".
 */
export const handleGetBucketPolicyStatus: OperationHandler<'GetBucketPolicyStatus'> = async (context) => {
  throw new S3Error('NoSuchBucketPolicy', { elements: { BucketName: checkedBucket(context).name } });
};
