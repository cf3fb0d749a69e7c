// The bucket-level operations and listings, by operation name, for the dispatcher.
import type { Operation } from '../endpoint.ts';
import type { OperationHandler } from '../operation-context.ts';
import {
  handleDeleteBucket,
  handleGetBucketEncryption,
  handleGetBucketLocation,
  handleHeadBucket,
} from './bucket-basics.ts';
import {
  handleDeleteBucketCors,
  handleGetBucketCors,
  handleOptions,
  handlePutBucketCors,
} from './bucket-cors.ts';
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
};
