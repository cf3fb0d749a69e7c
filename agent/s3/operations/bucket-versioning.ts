// GetBucketVersioning and PutBucketVersioning. A bucket that was never versioned answers an empty
// VersioningConfiguration, as S3 does; Object Lock keeps versioning Enabled for good.
import { S3Error } from '../errors.ts';
import type { OperationHandler } from '../operation-context.ts';
import { sendEmpty, sendXml } from '../responses.ts';
import { parseVersioningConfiguration, xmlDocument } from '../xml.ts';
import { checkedBucket } from './bucket-basics.ts';
import { readConfigurationXml } from './bucket-common.ts';

export const handleGetBucketVersioning: OperationHandler<'GetBucketVersioning'> = async (context) => {
  const { versioning } = checkedBucket(context);
  const xml = xmlDocument('VersioningConfiguration', [
    ['Status', versioning === 'Unversioned' ? undefined : versioning],
  ]);
  sendXml(context.response, 200, xml, context.commonHeaders);
};

export const handlePutBucketVersioning: OperationHandler<'PutBucketVersioning'> = async (
  context,
  endpoint,
) => {
  const configuration = parseVersioningConfiguration(await readConfigurationXml(context));
  // MFA delete needs a hardware token per request (x-amz-mfa); Coffre's immutability comes from
  // Object Lock instead, so the setting is refused rather than silently ignored.
  if (configuration.mfaDelete === 'Enabled') {
    throw new S3Error('NotImplemented', { message: 'MFA Delete is not available on this service.' });
  }
  // S3: "You cannot suspend versioning on a bucket that has Object Lock enabled" (InvalidBucketState),
  // which the object layer enforces.
  if (configuration.status !== undefined) {
    await context.layer.buckets.setVersioning(endpoint.bucket, configuration.status);
  }
  sendEmpty(context.response, 200, context.commonHeaders);
};
