// The request bodies of the bucket settings Coffre holds fixed: an ACL (AccessControlPolicy), Object
// Ownership (OwnershipControls), Block Public Access (PublicAccessBlockConfiguration) and default
// encryption (ServerSideEncryptionConfiguration), parsed with xml.ts's checked readers into typed
// values. Only S3's schema is enforced here (MalformedXML, MalformedACLError for an ACL, as S3
// answers); whether a value is the one Coffre has is for the handlers to decide.

import { S3Error } from './errors.ts';
import { malformedXml, parseXmlRoot, xmlBoolean, xmlChild, xmlElements, xmlText } from './xml.ts';

export interface AclGrant {
  /** The grantee, by canonical ID, group URI or e-mail address, as the Grantee element names it. */
  grantee: { id?: string; uri?: string; emailAddress?: string };
  permission: AclPermission;
}

export type AclPermission = 'FULL_CONTROL' | 'WRITE' | 'WRITE_ACP' | 'READ' | 'READ_ACP';

export interface AccessControlPolicy {
  ownerId?: string;
  grants: AclGrant[];
}

const aclPermissions: ReadonlySet<string> = new Set([
  'FULL_CONTROL',
  'WRITE',
  'WRITE_ACP',
  'READ',
  'READ_ACP',
]);

/**
 * AccessControlPolicy (PutBucketAcl, PutObjectAcl): an optional Owner and the grants of its
 * AccessControlList. S3 answers an ACL document that does not follow the schema with MalformedACLError.
 */
export function parseAccessControlPolicy(body: string): AccessControlPolicy {
  try {
    const root = parseXmlRoot(body, 'AccessControlPolicy')!;
    const owner = xmlChild(root, 'Owner');
    const list = xmlChild(root, 'AccessControlList');
    const grants = (list === undefined ? [] : xmlElements(list, 'Grant')).map((grant): AclGrant => {
      const grantee = xmlChild(grant, 'Grantee');
      if (grantee === undefined) throw malformedXml('missing Grantee');
      const permission = xmlText(grant, 'Permission');
      if (permission === undefined || !aclPermissions.has(permission)) throw malformedXml('Permission');
      return {
        grantee: {
          id: xmlText(grantee, 'ID'),
          uri: xmlText(grantee, 'URI'),
          emailAddress: xmlText(grantee, 'EmailAddress'),
        },
        permission: permission as AclPermission,
      };
    });
    return { ownerId: owner === undefined ? undefined : xmlText(owner, 'ID'), grants };
  } catch (error) {
    if (error instanceof S3Error && error.code === 'MalformedXML') {
      throw new S3Error('MalformedACLError', { elements: error.elements, cause: error });
    }
    throw error;
  }
}

export type ObjectOwnership = 'BucketOwnerEnforced' | 'BucketOwnerPreferred' | 'ObjectWriter';

const objectOwnerships: ReadonlySet<string> = new Set([
  'BucketOwnerEnforced',
  'BucketOwnerPreferred',
  'ObjectWriter',
]);

/** OwnershipControls (PutBucketOwnershipControls): exactly one Rule naming an ObjectOwnership. */
export function parseOwnershipControls(body: string): ObjectOwnership {
  const root = parseXmlRoot(body, 'OwnershipControls')!;
  const rules = xmlElements(root, 'Rule');
  if (rules.length !== 1) throw malformedXml('exactly one Rule');
  const ownership = xmlText(rules[0], 'ObjectOwnership');
  if (ownership === undefined || !objectOwnerships.has(ownership)) throw malformedXml('ObjectOwnership');
  return ownership as ObjectOwnership;
}

export interface PublicAccessBlock {
  blockPublicAcls: boolean;
  ignorePublicAcls: boolean;
  blockPublicPolicy: boolean;
  restrictPublicBuckets: boolean;
}

/**
 * PublicAccessBlockConfiguration (PutPublicAccessBlock): four booleans, each false when absent, as S3
 * reads the document ("Setting this element to TRUE causes ...").
 */
export function parsePublicAccessBlock(body: string): PublicAccessBlock {
  const root = parseXmlRoot(body, 'PublicAccessBlockConfiguration')!;
  // S3's own examples write these TRUE and FALSE; XML Schema's boolean is case-sensitive, S3 is not.
  const flag = (name: string) => xmlBoolean(xmlText(root, name)?.toLowerCase(), name);
  return {
    blockPublicAcls: flag('BlockPublicAcls'),
    ignorePublicAcls: flag('IgnorePublicAcls'),
    blockPublicPolicy: flag('BlockPublicPolicy'),
    restrictPublicBuckets: flag('RestrictPublicBuckets'),
  };
}

export type SseAlgorithm = 'AES256' | 'aws:kms' | 'aws:kms:dsse';

export interface EncryptionRule {
  sseAlgorithm: SseAlgorithm;
  kmsMasterKeyId?: string;
  bucketKeyEnabled: boolean;
}

const sseAlgorithms: ReadonlySet<string> = new Set(['AES256', 'aws:kms', 'aws:kms:dsse']);

/**
 * ServerSideEncryptionConfiguration (PutBucketEncryption): one or more Rules, each with an
 * ApplyServerSideEncryptionByDefault naming the SSEAlgorithm (and a KMSMasterKeyID for KMS), and an
 * optional BucketKeyEnabled.
 */
export function parseServerSideEncryptionConfiguration(body: string): EncryptionRule[] {
  const root = parseXmlRoot(body, 'ServerSideEncryptionConfiguration')!;
  const rules = xmlElements(root, 'Rule').map((rule): EncryptionRule => {
    const byDefault = xmlChild(rule, 'ApplyServerSideEncryptionByDefault');
    if (byDefault === undefined) throw malformedXml('missing ApplyServerSideEncryptionByDefault');
    const algorithm = xmlText(byDefault, 'SSEAlgorithm');
    if (algorithm === undefined || !sseAlgorithms.has(algorithm)) throw malformedXml('SSEAlgorithm');
    return {
      sseAlgorithm: algorithm as SseAlgorithm,
      kmsMasterKeyId: xmlText(byDefault, 'KMSMasterKeyID'),
      bucketKeyEnabled: xmlBoolean(xmlText(rule, 'BucketKeyEnabled'), 'BucketKeyEnabled'),
    };
  });
  if (rules.length === 0) throw malformedXml('no Rule');
  return rules;
}
