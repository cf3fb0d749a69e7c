// GetBucketEncryption, PutBucketEncryption, DeleteBucketEncryption. Every object Coffre stores is
// encrypted at rest with AES-256 whatever the request says, which is what S3 reports as the default
// SSE-S3 configuration (SSEAlgorithm AES256, no bucket key) and what every S3 bucket has had since
// January 2023 (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-encryption.html). So a
// PutBucketEncryption asking for AES256 asks for what is already true and is answered as done, and
// DeleteBucketEncryption, which "resets the default encryption for the bucket as server-side
// encryption with Amazon S3 managed keys (SSE-S3)" (API_DeleteBucketEncryption, 204), changes nothing
// either. KMS is not offered (NotImplemented, as for an object's x-amz-server-side-encryption: aws:kms).
import { parseServerSideEncryptionConfiguration } from '../bucket-settings-xml.ts';
import { S3Error } from '../errors.ts';
import type { OperationHandler } from '../operation-context.ts';
import { sendEmpty, sendXml } from '../responses.ts';
import { xmlDocument } from '../xml.ts';
import { checkedBucket } from './bucket-basics.ts';
import { readConfigurationXml, requireBodyIntegrityHeader } from './bucket-common.ts';
import { kmsNotAvailable } from './server-side-encryption.ts';

export const handleGetBucketEncryption: OperationHandler<'GetBucketEncryption'> = async (context) => {
  checkedBucket(context);
  const xml = xmlDocument('ServerSideEncryptionConfiguration', [
    [
      'Rule',
      [
        ['ApplyServerSideEncryptionByDefault', [['SSEAlgorithm', 'AES256']]],
        ['BucketKeyEnabled', false],
      ],
    ],
  ]);
  sendXml(context.response, 200, xml, context.commonHeaders);
};

/**
 * AES256 without a bucket key is accepted as already in force. A bucket key (BucketKeyEnabled true)
 * is an AWS KMS cost feature that GetBucketEncryption would then have to report: refused like KMS,
 * rather than accepted and then answered false.
 */
export const handlePutBucketEncryption: OperationHandler<'PutBucketEncryption'> = async (context) => {
  checkedBucket(context);
  requireBodyIntegrityHeader(context);
  const rules = parseServerSideEncryptionConfiguration(await readConfigurationXml(context));
  for (const rule of rules) {
    if (rule.sseAlgorithm !== 'AES256') throw kmsNotAvailable();
    if (rule.kmsMasterKeyId !== undefined) {
      throw new S3Error('InvalidArgument', {
        message:
          'a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse',
      });
    }
    if (rule.bucketKeyEnabled) {
      throw new S3Error('NotImplemented', {
        message:
          'S3 Bucket Keys apply to AWS KMS keys, which are not available; objects are encrypted with AES256.',
      });
    }
  }
  sendEmpty(context.response, 200, context.commonHeaders);
};

export const handleDeleteBucketEncryption: OperationHandler<'DeleteBucketEncryption'> = async (context) => {
  checkedBucket(context);
  sendEmpty(context.response, 204, context.commonHeaders);
};
