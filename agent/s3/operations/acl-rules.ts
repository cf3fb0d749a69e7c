// Access control lists as Coffre has them: every bucket uses S3 Object Ownership's "bucket owner
// enforced" setting, S3's default for new buckets since April 2023
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html). ACLs are
// disabled, the bucket owner owns every object and has full control of it, and nothing else is ever
// granted: there is no public or cross-tenant access of any kind. S3's rule for such a bucket: "The
// bucket only accepts PUT requests that don't specify an ACL or specify bucket owner full control
// ACLs (such as the predefined bucket-owner-full-control canned ACL or a custom ACL in XML format
// that grants the same permissions)"; any other is 400 AccessControlListNotSupported ("The bucket
// does not allow ACLs"), and a CreateBucket whose ACL grants anyone but the owner is
// InvalidBucketAclWithObjectOwnership.
//
// One deliberate difference: the "private" canned ACL is accepted wherever bucket-owner-full-control
// is. Here the writer is always the bucket owner, so "private" (owner gets FULL_CONTROL, nobody else
// has access) grants exactly the same. S3 refuses it on a bucket owner enforced bucket, but a bucket
// created with "x-amz-acl: private" and no x-amz-object-ownership becomes BucketOwnerPreferred there,
// where it is accepted: that is how rclone, which sends "private" on every bucket and object write by
// default, keeps working against S3, and Coffre has no second ownership setting to fall back to.
import type { AccessControlPolicy } from '../bucket-settings-xml.ts';
import type { Endpoint } from '../endpoint.ts';
import { S3Error } from '../errors.ts';

type Header = (name: string) => string | undefined;

/** What a request asks of an ACL: nothing, the owner's full control and nothing more, or anything else. */
export type RequestedAcl = 'none' | 'owner-full-control' | 'other';

const grantHeaderNames = [
  'x-amz-grant-full-control',
  'x-amz-grant-read',
  'x-amz-grant-read-acp',
  'x-amz-grant-write',
  'x-amz-grant-write-acp',
] as const;

/** The canned ACLs that leave the bucket owner's full control as the only grant (see above). */
const ownerOnlyCannedAcls: ReadonlySet<string> = new Set(['private', 'bucket-owner-full-control']);

/**
 * Whether a grant header value (`id="…", uri="…", emailAddress="…"`, comma-separated) names the
 * owner's canonical ID and no one else.
 */
function namesOwnerOnly(value: string, ownerId: string): boolean {
  const grantees = value.split(',').map((grantee) => grantee.trim());
  return grantees.every((grantee) => {
    const match = /^id\s*=\s*"?([^"]*)"?$/i.exec(grantee);
    return match !== null && match[1] === ownerId;
  });
}

/** The ACL headers (x-amz-acl, x-amz-grant-*) of a request: what they ask of an object's or bucket's ACL. */
export function requestedAclHeaders(header: Header, ownerId: string): RequestedAcl {
  const canned = header('x-amz-acl');
  const grants = grantHeaderNames.filter((name) => header(name) !== undefined);
  if (canned !== undefined && grants.length > 0) {
    throw new S3Error('InvalidRequest', {
      message: 'Specifying both Canned ACLs and Header Grants is not allowed',
    });
  }
  if (canned !== undefined) return ownerOnlyCannedAcls.has(canned.trim()) ? 'owner-full-control' : 'other';
  if (grants.length === 0) return 'none';
  const fullControl = header('x-amz-grant-full-control');
  const ownerFullControlOnly =
    grants.length === 1 && fullControl !== undefined && namesOwnerOnly(fullControl, ownerId);
  return ownerFullControlOnly ? 'owner-full-control' : 'other';
}

/** An AccessControlPolicy document grants FULL_CONTROL to the owner, by canonical ID, and nothing else. */
export function policyGrantsOwnerOnly(policy: AccessControlPolicy, ownerId: string): boolean {
  if (policy.ownerId !== undefined && policy.ownerId !== ownerId) return false;
  return (
    policy.grants.length > 0 &&
    policy.grants.every(
      ({ grantee, permission }) =>
        permission === 'FULL_CONTROL' &&
        grantee.id === ownerId &&
        grantee.uri === undefined &&
        grantee.emailAddress === undefined,
    )
  );
}

/** The refusal of any ACL but the owner's full control. */
export function aclNotSupported(): S3Error {
  return new S3Error('AccessControlListNotSupported');
}

/**
 * Before the body of a write that can carry an ACL (PutObject, CopyObject, CreateMultipartUpload) is
 * read: AccessControlListNotSupported unless its ACL headers say nothing or keep the owner's full
 * control only.
 */
export function checkWriteAclHeaders(endpoint: Endpoint, ownerId: string, header: Header): void {
  const carriesAcl =
    endpoint.operation === 'PutObject' ||
    endpoint.operation === 'CopyObject' ||
    endpoint.operation === 'CreateMultipartUpload';
  if (carriesAcl && requestedAclHeaders(header, ownerId) === 'other') throw aclNotSupported();
}

/**
 * CreateBucket's x-amz-object-ownership and ACL headers. Only BucketOwnerEnforced exists here: the
 * other two settings turn ACLs on, which Coffre does not have (NotImplemented, rather than a bucket
 * that silently differs from the one asked for). An ACL granting anyone but the owner is
 * InvalidBucketAclWithObjectOwnership, as S3 answers it under BucketOwnerEnforced.
 */
export function checkCreateBucketOwnership(header: Header, ownerId: string): void {
  const ownership = header('x-amz-object-ownership');
  if (ownership !== undefined && ownership !== 'BucketOwnerEnforced') {
    if (ownership === 'BucketOwnerPreferred' || ownership === 'ObjectWriter') {
      throw new S3Error('NotImplemented', {
        message: 'ACLs are not available: every bucket uses the BucketOwnerEnforced object ownership.',
      });
    }
    throw new S3Error('InvalidArgument', {
      message: 'Invalid x-amz-object-ownership header',
      elements: { ArgumentName: 'x-amz-object-ownership', ArgumentValue: ownership },
    });
  }
  if (requestedAclHeaders(header, ownerId) === 'other') {
    throw new S3Error('InvalidBucketAclWithObjectOwnership');
  }
}
