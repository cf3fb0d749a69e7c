// CreateBucket: a bucket in this agent's region, owned by the caller's tenant, optionally created
// with Object Lock (which turns versioning on, as S3 does), always with ACLs disabled (acl-rules.ts).
import { S3Error } from '../errors.ts';
import type { OperationHandler } from '../operation-context.ts';
import { sendEmpty } from '../responses.ts';
import { parseCreateBucketConfiguration } from '../xml.ts';
import { checkCreateBucketOwnership } from './acl-rules.ts';
import { readConfigurationXml } from './bucket-common.ts';

/** Region names as S3 writes them (eu-west-3, fr-par), and S3's legacy "EU". */
const regionNamePattern = /^(?:[a-z]{2}(?:-[a-z0-9]+)+|EU)$/;

/**
 * S3 answers a LocationConstraint naming another region with IllegalLocationConstraintException ("The
 * eu-west-1 location constraint is incompatible for the region specific endpoint this request was sent
 * to."), and one that names no region at all with InvalidLocationConstraint.
 */
export function checkLocationConstraint(locationConstraint: string | undefined, region: string): void {
  if (locationConstraint === undefined || locationConstraint === region) return;
  if (regionNamePattern.test(locationConstraint)) {
    throw new S3Error('IllegalLocationConstraintException', {
      message: `The ${locationConstraint} location constraint is incompatible for the region specific endpoint this request was sent to.`,
    });
  }
  throw new S3Error('InvalidLocationConstraint', {
    message: 'The specified location-constraint is not valid',
    elements: { LocationConstraint: locationConstraint },
  });
}

/** x-amz-bucket-object-lock-enabled is a boolean header: "true" or "false", case-insensitive. */
function objectLockRequested(value: string | undefined): boolean {
  if (value === undefined) return false;
  const normalised = value.trim().toLowerCase();
  if (normalised === 'true') return true;
  if (normalised === 'false') return false;
  throw new S3Error('InvalidArgument', {
    message: 'x-amz-bucket-object-lock-enabled must be true or false',
    elements: { ArgumentName: 'x-amz-bucket-object-lock-enabled', ArgumentValue: value },
  });
}

export const handleCreateBucket: OperationHandler<'CreateBucket'> = async (context, endpoint) => {
  checkCreateBucketOwnership(context.header, context.caller.tenantId);
  const objectLockEnabled = objectLockRequested(context.header('x-amz-bucket-object-lock-enabled'));
  const configuration = parseCreateBucketConfiguration(await readConfigurationXml(context));
  checkLocationConstraint(configuration.locationConstraint, context.region);
  try {
    await context.layer.buckets.create({
      name: endpoint.bucket,
      ownerTenantId: context.caller.tenantId,
      region: context.region,
      objectLockEnabled,
    });
  } catch (error) {
    // Only the caller's own namespace counts: "Your previous request to create the named bucket
    // succeeded and you already own it." Another tenant's bucket of this name is no obstacle, so
    // BucketAlreadyExists (which would tell that it exists) is never the answer.
    if ((error as { code?: unknown }).code === 'BucketAlreadyOwnedByYou') {
      throw new S3Error('BucketAlreadyOwnedByYou', {
        elements: { BucketName: endpoint.bucket },
        cause: error,
      });
    }
    throw error;
  }
  sendEmpty(context.response, 200, { ...context.commonHeaders, Location: `/${endpoint.bucket}` });
};
