// What each key role may do, per operation. A read-only key restores; a write-only key backs up and
// can never destroy: no delete of any kind, no configuration change that could weaken protection.
import type { KeyRole } from '../objects/identities.ts';
import type { Operation } from './endpoint.ts';

/** read: observe. write: add data or metadata. destroy: remove or weaken anything. configure: bucket settings. */
export type Permission = 'read' | 'write' | 'destroy' | 'configure';

export const operationPermissions: { readonly [Name in Operation]: Permission } = {
  ListBuckets: 'read',
  Options: 'read',
  CreateBucket: 'write',
  HeadBucket: 'read',
  DeleteBucket: 'destroy',
  GetBucketLocation: 'read',
  GetBucketVersioning: 'read',
  PutBucketVersioning: 'configure',
  GetBucketCors: 'read',
  PutBucketCors: 'configure',
  DeleteBucketCors: 'configure',
  GetObjectLockConfiguration: 'read',
  PutObjectLockConfiguration: 'configure',
  GetBucketEncryption: 'read',
  // The bucket settings Coffre holds fixed or does not have: reading them is observing; a PUT that
  // asks for what is already true, or a DELETE that resets to it, is still a configuration request.
  PutBucketEncryption: 'configure',
  DeleteBucketEncryption: 'configure',
  GetBucketAcl: 'read',
  PutBucketAcl: 'configure',
  GetBucketOwnershipControls: 'read',
  PutBucketOwnershipControls: 'configure',
  GetPublicAccessBlock: 'read',
  PutPublicAccessBlock: 'configure',
  GetBucketPolicy: 'read',
  GetBucketPolicyStatus: 'read',
  GetBucketTagging: 'read',
  PutBucketTagging: 'configure',
  DeleteBucketTagging: 'configure',
  GetBucketLifecycleConfiguration: 'read',
  GetBucketWebsite: 'read',
  GetBucketReplication: 'read',
  GetBucketLogging: 'read',
  GetBucketNotificationConfiguration: 'read',
  GetBucketAccelerateConfiguration: 'read',
  GetBucketRequestPayment: 'read',
  ListObjects: 'read',
  ListObjectsV2: 'read',
  ListObjectVersions: 'read',
  ListMultipartUploads: 'read',
  DeleteObjects: 'destroy',
  PutObject: 'write',
  CopyObject: 'write',
  GetObject: 'read',
  HeadObject: 'read',
  GetObjectAttributes: 'read',
  DeleteObject: 'destroy',
  GetObjectAcl: 'read',
  // Only ever accepted when it asks for the owner's full control, which every object already has:
  // backup software that sets bucket-owner-full-control after an upload may do so with a write key.
  PutObjectAcl: 'write',
  GetObjectTagging: 'read',
  PutObjectTagging: 'write',
  DeleteObjectTagging: 'destroy',
  GetObjectRetention: 'read',
  // Extending a retention is how backup software keeps its restore points; shortening one needs
  // the governance bypass, which only a full key holds (checked by the handler).
  PutObjectRetention: 'write',
  GetObjectLegalHold: 'read',
  PutObjectLegalHold: 'configure',
  CreateMultipartUpload: 'write',
  UploadPart: 'write',
  UploadPartCopy: 'write',
  CompleteMultipartUpload: 'write',
  AbortMultipartUpload: 'write',
  ListParts: 'read',
};

const rolePermissions: { readonly [Role in KeyRole]: readonly Permission[] } = {
  full: ['read', 'write', 'destroy', 'configure'],
  'read-only': ['read'],
  'write-only': ['read', 'write'],
};

export function roleAllows(role: KeyRole, operation: Operation): boolean {
  return rolePermissions[role].includes(operationPermissions[operation]);
}

/** Whether a key of this role may use x-amz-bypass-governance-retention. */
export function roleMayBypassGovernance(role: KeyRole): boolean {
  return role === 'full';
}
