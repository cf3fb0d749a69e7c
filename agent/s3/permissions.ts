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
  ListObjects: 'read',
  ListObjectsV2: 'read',
  ListObjectVersions: 'read',
  ListMultipartUploads: 'read',
  DeleteObjects: 'destroy',
  PutObject: 'write',
  CopyObject: 'write',
  GetObject: 'read',
  HeadObject: 'read',
  DeleteObject: 'destroy',
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
