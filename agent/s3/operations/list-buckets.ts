// ListBuckets: the caller tenant's buckets only, in name order, filtered by prefix and paged with
// max-buckets and an opaque continuation token, as S3's ListBuckets (ListAllMyBucketsResult).
import { S3Error } from '../errors.ts';
import type { OperationHandler } from '../operation-context.ts';
import { sendXml } from '../responses.ts';
import { xmlDocument } from '../xml.ts';
import { ownerChildren } from './bucket-common.ts';

/**
 * S3: without max-buckets every bucket of the account is listed in one answer (its quota of
 * buckets bounds the page); with it, 1 to 10,000 per page.
 */
const maximumBucketsPerPage = 10_000;

function encodeToken(lastName: string): string {
  return Buffer.from(`1:${lastName}`, 'utf8').toString('base64url');
}

function decodeToken(token: string): string {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  if (!text.startsWith('1:') || encodeToken(text.slice(2)) !== token) {
    throw new S3Error('InvalidArgument', {
      message: 'The continuation token provided is incorrect',
      elements: { ArgumentName: 'continuation-token', ArgumentValue: token },
    });
  }
  return text.slice(2);
}

export const handleListBuckets: OperationHandler<'ListBuckets'> = async (context, endpoint) => {
  const pageSizeAsked = /(?:^|[?&])max-buckets=/.test(context.request.url ?? '');
  const pageSize = pageSizeAsked ? endpoint.maxBuckets : maximumBucketsPerPage;
  if (pageSizeAsked && pageSize < 1) {
    throw new S3Error('InvalidArgument', {
      message: 'Provided max-buckets not an integer or within integer range',
      elements: { ArgumentName: 'max-buckets', ArgumentValue: pageSize },
    });
  }
  const after =
    endpoint.continuationToken === undefined ? undefined : decodeToken(endpoint.continuationToken);
  const matching = context.layer.buckets
    .list(context.caller.tenantId)
    .filter((bucket) => bucket.name.startsWith(endpoint.prefix))
    .filter((bucket) => after === undefined || bucket.name > after);
  const page = matching.slice(0, pageSize);
  const truncated = matching.length > page.length;
  const xml = xmlDocument('ListAllMyBucketsResult', [
    [
      'Buckets',
      page.map(
        (bucket) =>
          [
            'Bucket',
            [
              ['Name', bucket.name],
              ['CreationDate', new Date(bucket.createdMs)],
              ['BucketRegion', bucket.region],
            ],
          ] as const,
      ),
    ],
    ['Owner', ownerChildren(context.caller)],
    ['ContinuationToken', truncated ? encodeToken(page.at(-1)!.name) : undefined],
    ['Prefix', endpoint.prefix === '' ? undefined : endpoint.prefix],
  ]);
  sendXml(context.response, 200, xml, context.commonHeaders);
};
