// GetBucketAcl, GetObjectAcl, PutBucketAcl, PutObjectAcl under bucket owner enforced Object Ownership
// (acl-rules.ts). S3: "Requests to read ACLs are still supported. Requests to read ACLs always return
// a response that shows full control for the bucket owner"
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-ownership-error-responses.html): the
// owner, as ListBuckets names it, with one FULL_CONTROL grant. A PUT that asks for exactly that is
// answered as done, since it is already true; any other is AccessControlListNotSupported. Which forms
// of it each PUT accepts is acl-rules.ts's.
import { parseAccessControlPolicy } from '../bucket-settings-xml.ts';
import type { OperationContext, OperationHandler } from '../operation-context.ts';
import { discardRequestBody } from '../request-body.ts';
import { sendEmpty, sendXml } from '../responses.ts';
import { xmlDocument } from '../xml.ts';
import {
  aclNotSupported,
  policyGrantsOwnerOnly,
  type RequestedAcl,
  requestedAclHeaders,
} from './acl-rules.ts';
import { checkedBucket } from './bucket-basics.ts';
import { ownerChildren, readConfigurationXml } from './bucket-common.ts';

/** How S3 types a grantee named by canonical ID (xsi:type in the XML Schema instance namespace). */
const canonicalUserGrantee = {
  'xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance',
  'xsi:type': 'CanonicalUser',
};

/** The one ACL there is: the bucket owner, with FULL_CONTROL, for the bucket and every object in it. */
function ownerFullControlDocument(context: OperationContext): string {
  const owner = ownerChildren(context.caller);
  return xmlDocument('AccessControlPolicy', [
    ['Owner', owner],
    [
      'AccessControlList',
      [
        [
          'Grant',
          [
            ['Grantee', owner, canonicalUserGrantee],
            ['Permission', 'FULL_CONTROL'],
          ],
        ],
      ],
    ],
  ]);
}

/**
 * The ACL a PUT asks for, from its headers and its AccessControlPolicy body alike; both may be sent,
 * and it keeps the owner's full control only if every part of it does.
 */
async function requestedAcl(context: OperationContext): Promise<RequestedAcl> {
  const ownerId = context.caller.tenantId;
  const fromHeaders = requestedAclHeaders(context.header, ownerId);
  const body = await readConfigurationXml(context);
  if (body.trim() === '' && fromHeaders !== 'none') return fromHeaders;
  // No header and no body: parsing answers MissingRequestBodyError, as for any missing document.
  const keepsOwnerOnly = policyGrantsOwnerOnly(parseAccessControlPolicy(body), ownerId);
  return keepsOwnerOnly && fromHeaders !== 'other' ? 'owner-full-control' : 'other';
}

export const handleGetBucketAcl: OperationHandler<'GetBucketAcl'> = async (context) => {
  checkedBucket(context);
  sendXml(context.response, 200, ownerFullControlDocument(context), context.commonHeaders);
};

export const handlePutBucketAcl: OperationHandler<'PutBucketAcl'> = async (context) => {
  checkedBucket(context);
  if ((await requestedAcl(context)) !== 'owner-full-control') throw aclNotSupported();
  sendEmpty(context.response, 200, context.commonHeaders);
};

/** The version must exist (NoSuchKey, NoSuchVersion; a delete marker as GetObject answers it). */
export const handleGetObjectAcl: OperationHandler<'GetObjectAcl'> = async (context, endpoint) => {
  if (!context.request.complete) await discardRequestBody(context.request);
  context.layer.objects.resolve(endpoint);
  sendXml(context.response, 200, ownerFullControlDocument(context), context.commonHeaders);
};

export const handlePutObjectAcl: OperationHandler<'PutObjectAcl'> = async (context, endpoint) => {
  context.layer.objects.resolve(endpoint);
  if ((await requestedAcl(context)) !== 'owner-full-control') throw aclNotSupported();
  sendEmpty(context.response, 200, context.commonHeaders);
};
