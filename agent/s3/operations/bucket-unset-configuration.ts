// The bucket configuration Coffre does not have (lifecycle rules, static website, replication, access
// logging, event notifications, Transfer Acceleration, Requester Pays), read as S3 answers it for a
// bucket where it was never set, so that tools which read every setting of a bucket (Terraform's
// aws_s3_bucket, s3cmd info, inventory and backup software) work unchanged. Each answer follows the
// operation's page in the Amazon S3 API Reference. Setting any of these stays NotImplemented
// (endpoint.ts), since none exists here.
import { S3Error } from '../errors.ts';
import type { OperationContext, OperationHandler } from '../operation-context.ts';
import { sendXml } from '../responses.ts';
import { type XmlChildren, xmlDocument } from '../xml.ts';
import { checkedBucket } from './bucket-basics.ts';

function notSet(
  context: OperationContext,
  code:
    | 'NoSuchLifecycleConfiguration'
    | 'NoSuchWebsiteConfiguration'
    | 'ReplicationConfigurationNotFoundError',
): never {
  throw new S3Error(code, { elements: { BucketName: checkedBucket(context).name } });
}

function answer(
  context: OperationContext,
  rootName: string,
  children: XmlChildren,
  options?: { namespace: string },
): void {
  checkedBucket(context);
  sendXml(context.response, 200, xmlDocument(rootName, children, options), context.commonHeaders);
}

/** GetBucketLifecycleConfiguration: "The lifecycle configuration does not exist" (404). */
export const handleGetBucketLifecycleConfiguration: OperationHandler<
  'GetBucketLifecycleConfiguration'
> = async (context) => notSet(context, 'NoSuchLifecycleConfiguration');

/** GetBucketWebsite: 404 NoSuchWebsiteConfiguration. */
export const handleGetBucketWebsite: OperationHandler<'GetBucketWebsite'> = async (context) =>
  notSet(context, 'NoSuchWebsiteConfiguration');

/** GetBucketReplication: 404 ReplicationConfigurationNotFoundError. */
export const handleGetBucketReplication: OperationHandler<'GetBucketReplication'> = async (context) =>
  notSet(context, 'ReplicationConfigurationNotFoundError');

/**
 * GetBucketLogging: logging off is an empty BucketLoggingStatus, in the namespace S3 defines that
 * document in ("To disable logging, you use an empty BucketLoggingStatus request element:
 * <BucketLoggingStatus xmlns="http://doc.s3.amazonaws.com/2006-03-01" />", API_PutBucketLogging).
 */
export const handleGetBucketLogging: OperationHandler<'GetBucketLogging'> = async (context) =>
  answer(context, 'BucketLoggingStatus', [], { namespace: 'http://doc.s3.amazonaws.com/2006-03-01' });

/** "If notifications are not enabled on the bucket, the action returns an empty NotificationConfiguration element." */
export const handleGetBucketNotificationConfiguration: OperationHandler<
  'GetBucketNotificationConfiguration'
> = async (context) => answer(context, 'NotificationConfiguration', []);

/**
 * "A GET accelerate request does not return a state value for a bucket that has no transfer
 * acceleration state": an AccelerateConfiguration without Status.
 */
export const handleGetBucketAccelerateConfiguration: OperationHandler<
  'GetBucketAccelerateConfiguration'
> = async (context) => answer(context, 'AccelerateConfiguration', []);

/** The bucket owner pays for every request and download: Payer BucketOwner. */
export const handleGetBucketRequestPayment: OperationHandler<'GetBucketRequestPayment'> = async (context) =>
  answer(context, 'RequestPaymentConfiguration', [['Payer', 'BucketOwner']]);
