// The bucket-level operations and listings, by operation name, for the dispatcher.
import type { Operation } from '../endpoint.ts';
import type { OperationHandler } from '../operation-context.ts';
import { handleGetBucketAcl, handlePutBucketAcl } from './access-control-lists.ts';
import {
  handleGetBucketOwnershipControls,
  handleGetBucketPolicy,
  handleGetBucketPolicyStatus,
  handleGetPublicAccessBlock,
  handlePutBucketOwnershipControls,
  handlePutPublicAccessBlock,
} from './bucket-access-settings.ts';
import { handleDeleteBucket, handleGetBucketLocation, handleHeadBucket } from './bucket-basics.ts';
import {
  handleDeleteBucketCors,
  handleGetBucketCors,
  handleOptions,
  handlePutBucketCors,
} from './bucket-cors.ts';
import {
  handleDeleteBucketEncryption,
  handleGetBucketEncryption,
  handlePutBucketEncryption,
} from './bucket-encryption.ts';
import {
  handleDeleteBucketTagging,
  handleGetBucketTagging,
  handlePutBucketTagging,
} from './bucket-tagging.ts';
import {
  handleGetBucketAccelerateConfiguration,
  handleGetBucketLifecycleConfiguration,
  handleGetBucketLogging,
  handleGetBucketNotificationConfiguration,
  handleGetBucketReplication,
  handleGetBucketRequestPayment,
  handleGetBucketWebsite,
} from './bucket-unset-configuration.ts';
import { handleGetBucketVersioning, handlePutBucketVersioning } from './bucket-versioning.ts';
import { handleCreateBucket } from './create-bucket.ts';
import { handleListBuckets } from './list-buckets.ts';
import { handleListObjects, handleListObjectsV2 } from './list-objects.ts';
import { handleListMultipartUploads, handleListObjectVersions } from './list-versions-and-uploads.ts';
import {
  handleGetObjectLockConfiguration,
  handlePutObjectLockConfiguration,
} from './object-lock-configuration.ts';

export const bucketOperations: { [Name in Operation]?: OperationHandler<Name> } = {
  ListBuckets: handleListBuckets,
  CreateBucket: handleCreateBucket,
  HeadBucket: handleHeadBucket,
  DeleteBucket: handleDeleteBucket,
  GetBucketLocation: handleGetBucketLocation,
  GetBucketEncryption: handleGetBucketEncryption,
  PutBucketEncryption: handlePutBucketEncryption,
  DeleteBucketEncryption: handleDeleteBucketEncryption,
  GetBucketVersioning: handleGetBucketVersioning,
  PutBucketVersioning: handlePutBucketVersioning,
  GetBucketCors: handleGetBucketCors,
  PutBucketCors: handlePutBucketCors,
  DeleteBucketCors: handleDeleteBucketCors,
  Options: handleOptions,
  GetObjectLockConfiguration: handleGetObjectLockConfiguration,
  PutObjectLockConfiguration: handlePutObjectLockConfiguration,
  ListObjects: handleListObjects,
  ListObjectsV2: handleListObjectsV2,
  ListObjectVersions: handleListObjectVersions,
  ListMultipartUploads: handleListMultipartUploads,
  GetBucketAcl: handleGetBucketAcl,
  PutBucketAcl: handlePutBucketAcl,
  GetBucketOwnershipControls: handleGetBucketOwnershipControls,
  PutBucketOwnershipControls: handlePutBucketOwnershipControls,
  GetPublicAccessBlock: handleGetPublicAccessBlock,
  PutPublicAccessBlock: handlePutPublicAccessBlock,
  GetBucketPolicy: handleGetBucketPolicy,
  GetBucketPolicyStatus: handleGetBucketPolicyStatus,
  GetBucketTagging: handleGetBucketTagging,
  PutBucketTagging: handlePutBucketTagging,
  DeleteBucketTagging: handleDeleteBucketTagging,
  GetBucketLifecycleConfiguration: handleGetBucketLifecycleConfiguration,
  GetBucketWebsite: handleGetBucketWebsite,
  GetBucketReplication: handleGetBucketReplication,
  GetBucketLogging: handleGetBucketLogging,
  GetBucketNotificationConfiguration: handleGetBucketNotificationConfiguration,
  GetBucketAccelerateConfiguration: handleGetBucketAccelerateConfiguration,
  GetBucketRequestPayment: handleGetBucketRequestPayment,
};
