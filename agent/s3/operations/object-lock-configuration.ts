// GetObjectLockConfiguration and PutObjectLockConfiguration: whether a bucket locks its versions,
// and the default retention (mode and Days or Years) given to new versions that name none.
import { S3Error } from '../errors.ts';
import type { OperationHandler } from '../operation-context.ts';
import { sendEmpty, sendXml } from '../responses.ts';
import { parseObjectLockConfiguration, xmlDocument } from '../xml.ts';
import { readConfigurationXml, requireBodyIntegrityHeader } from './bucket-common.ts';

export const handleGetObjectLockConfiguration: OperationHandler<'GetObjectLockConfiguration'> = async (
  context,
  endpoint,
) => {
  // ObjectLockConfigurationNotFoundError (404) when the bucket was never lock-enabled.
  const lock = context.layer.buckets.getObjectLockConfiguration(endpoint.bucket);
  const retention = lock.defaultRetention;
  const xml = xmlDocument('ObjectLockConfiguration', [
    ['ObjectLockEnabled', 'Enabled'],
    [
      'Rule',
      retention === null
        ? undefined
        : [
            [
              'DefaultRetention',
              [
                ['Mode', retention.mode],
                ['Days', retention.days],
                ['Years', retention.years],
              ],
            ],
          ],
    ],
  ]);
  sendXml(context.response, 200, xml, context.commonHeaders);
};

/**
 * S3 requires ObjectLockEnabled "Enabled" in every configuration. On a bucket created without Object
 * Lock it turns the lock on, which needs versioning Enabled first (InvalidBucketState otherwise, from
 * the object layer). Without a Rule the default retention is removed.
 */
export const handlePutObjectLockConfiguration: OperationHandler<'PutObjectLockConfiguration'> = async (
  context,
  endpoint,
) => {
  requireBodyIntegrityHeader(context);
  const configuration = parseObjectLockConfiguration(await readConfigurationXml(context));
  if (!configuration.enabled) {
    throw new S3Error('MalformedXML', { elements: { Detail: 'ObjectLockEnabled must be Enabled' } });
  }
  await context.layer.buckets.setObjectLockConfiguration(
    endpoint.bucket,
    configuration.defaultRetention ?? null,
  );
  sendEmpty(context.response, 200, context.commonHeaders);
};
