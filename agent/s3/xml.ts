// S3's XML: response documents out (a small builder that keeps S3's element order and namespace), and
// request bodies in (CompleteMultipartUpload, Delete, CreateBucketConfiguration, Tagging,
// CORSConfiguration, VersioningConfiguration, ObjectLockConfiguration, Retention, LegalHold), parsed with
// fast-xml-parser into checked, typed values. A body that is not well-formed XML, or does not follow the
// schema, is MalformedXML as in S3; bodies are read up to a named bound.

import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { escapeXml, S3Error } from './errors.ts';

export { escapeXml };

export const s3Namespace = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** The largest XML request body read; DeleteObjects' 1000 keys of 1024 bytes fit with room to spare. */
export const maximumXmlBodyBytes = 2 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------------
// Out

/** Element content: text, a number, a boolean, a date (ISO 8601 with milliseconds, as S3), or children. */
export type XmlContent = string | number | boolean | Date | XmlChildren | null | undefined;
/**
 * Children in order, as [name, content] pairs, or [name, content, attributes] for the few elements S3
 * writes with attributes (an ACL's Grantee); undefined and null contents are left out.
 */
export type XmlChildren = readonly (readonly [string, XmlContent, XmlAttributes?])[];
/** Attribute values by name, written in order and escaped. */
export type XmlAttributes = Readonly<Record<string, string>>;

function renderContent(content: Exclude<XmlContent, null | undefined>): string {
  if (typeof content === 'string') return escapeXml(content);
  if (typeof content === 'number') return String(content);
  if (typeof content === 'boolean') return content ? 'true' : 'false';
  if (content instanceof Date) return content.toISOString();
  return renderChildren(content);
}

function renderAttributes(attributes: XmlAttributes | undefined): string {
  if (attributes === undefined) return '';
  return Object.entries(attributes)
    .map(([name, value]) => ` ${name}="${escapeXml(value)}"`)
    .join('');
}

function renderChildren(children: XmlChildren): string {
  let text = '';
  for (const [name, content, attributes] of children) {
    if (content === undefined || content === null) continue;
    text += `<${name}${renderAttributes(attributes)}>${renderContent(content)}</${name}>`;
  }
  return text;
}

/**
 * A whole response document: declaration, root element in the S3 namespace (or none, or another one
 * that a document is defined in), children.
 */
export function xmlDocument(
  rootName: string,
  children: XmlChildren,
  options: { namespace?: boolean | string } = {},
): string {
  const namespaceName = typeof options.namespace === 'string' ? options.namespace : s3Namespace;
  const namespace = options.namespace === false ? '' : ` xmlns="${escapeXml(namespaceName)}"`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${rootName}${namespace}>${renderChildren(children)}</${rootName}>`;
}

// ---------------------------------------------------------------------------------------------------
// In

function malformed(detail?: string): S3Error {
  return new S3Error('MalformedXML', { elements: detail === undefined ? undefined : { Detail: detail } });
}

/** Reads a request body that must be an XML document, up to `maximumBytes`. */
export async function readXmlBody(
  source: AsyncIterable<Uint8Array>,
  maximumBytes = maximumXmlBodyBytes,
): Promise<string> {
  const pieces: Uint8Array[] = [];
  let totalBytes = 0;
  for await (const piece of source) {
    totalBytes += piece.length;
    if (totalBytes > maximumBytes) throw new S3Error('MaxMessageLengthExceeded');
    pieces.push(piece);
  }
  return Buffer.concat(pieces).toString('utf8');
}

// Elements that may repeat, whatever their parent: always parsed as arrays.
const repeatedElements = new Set([
  'Part',
  'Object',
  'Tag',
  'CORSRule',
  'AllowedMethod',
  'AllowedOrigin',
  'AllowedHeader',
  'ExposeHeader',
]);

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  // Keys may begin or end with spaces: text is kept as sent.
  trimValues: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  maxNestedTags: 16,
  // Entities are decoded by `decodeXmlText` below, which knows XML's five and character references and
  // nothing else: no DOCTYPE-declared entity can ever expand.
  processEntities: false,
  isArray: (name) => repeatedElements.has(name),
});

type XmlObject = { [name: string]: XmlValue };
type XmlValue = string | XmlObject | XmlValue[];

/**
 * Parses a body and returns the children of its root element, which must be `rootName`. An empty body is
 * MissingRequestBodyError, unless `allowEmpty` (CreateBucket's configuration is optional).
 */
export function parseXmlRoot(text: string, rootName: string, allowEmpty = false): XmlObject | undefined {
  if (text.trim() === '') {
    if (allowEmpty) return undefined;
    throw new S3Error('MissingRequestBodyError');
  }
  // A document type declaration is never needed by S3 and is how entity-expansion attacks begin.
  if (/<!DOCTYPE/i.test(text)) throw malformed('DOCTYPE is not allowed');
  if (XMLValidator.validate(text) !== true) throw malformed();
  let document: XmlObject;
  try {
    document = parser.parse(text) as XmlObject;
  } catch {
    throw malformed();
  }
  const roots = Object.keys(document);
  if (roots.length !== 1 || roots[0] !== rootName) throw malformed(`expected the root element ${rootName}`);
  const root = document[rootName];
  if (root === '') return {};
  if (typeof root !== 'object' || Array.isArray(root)) throw malformed();
  return root;
}

const predefinedEntities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Decodes XML's predefined entities and character references (&#233; &#xE9;); anything else is malformed. */
export function decodeXmlText(raw: string): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(/&([^;&]*);?/g, (reference, name: string) => {
    if (!reference.endsWith(';')) throw malformed('unterminated entity reference');
    const predefined = predefinedEntities[name];
    if (predefined !== undefined) return predefined;
    const numeric = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(name);
    if (numeric === null) throw malformed(`unknown entity &${name};`);
    const codePoint = numeric[1] === undefined ? Number(numeric[2]) : Number.parseInt(numeric[1], 16);
    if (codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff))
      throw malformed('bad character reference');
    return String.fromCodePoint(codePoint);
  });
}

/**
 * The checked readers of a parsed body, for the request bodies parsed outside this file (the bucket
 * settings of bucket-settings-xml.ts): text, one child element, one or many child elements.
 */
export type { XmlObject };
export { booleanText as xmlBoolean, child as xmlChild, malformed as malformedXml, text as xmlText };

/**
 * Elements that may appear once or repeated, for names not in `repeatedElements` because another
 * document has them once (a <Rule> is single in ObjectLockConfiguration): fast-xml-parser then gives
 * an object or an array.
 */
export function xmlElements(parent: XmlObject, name: string): XmlObject[] {
  const value = parent[name];
  if (value === undefined) return [];
  return elementsOf(Array.isArray(value) ? value : [value], name);
}

function text(parent: XmlObject, name: string): string | undefined {
  const value = parent[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw malformed(`${name} must be text`);
  return decodeXmlText(value);
}

function requiredText(parent: XmlObject, name: string): string {
  const value = text(parent, name);
  if (value === undefined) throw malformed(`missing ${name}`);
  return value;
}

function child(parent: XmlObject, name: string): XmlObject | undefined {
  const value = parent[name];
  if (value === undefined) return undefined;
  if (value === '') return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw malformed(`${name} must be an element`);
  return value;
}

/** The elements of a name in `repeatedElements` (always parsed as an array). */
function list(parent: XmlObject, name: string): XmlObject[] {
  const value = parent[name];
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw malformed();
  return elementsOf(value, name);
}

function elementsOf(items: unknown[], name: string): XmlObject[] {
  return items.map((item) => {
    if (item === '') return {};
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      throw malformed(`${name} must be an element`);
    return item as XmlObject;
  });
}

function textList(parent: XmlObject, name: string): string[] {
  const value = parent[name];
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw malformed();
  return (value as string[]).map(decodeXmlText);
}

function positiveInteger(value: string, name: string): number {
  if (!/^\d{1,10}$/.test(value)) throw malformed(`${name} must be an integer`);
  return Number(value);
}

/** Reads a body-less check of the booleans S3 writes as "true"/"false". */
function booleanText(value: string | undefined, name: string): boolean {
  if (value === undefined) return false;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw malformed(`${name} must be true or false`);
}

// ---------------------------------------------------------------------------------------------------
// Request bodies

/** S3 limits: part numbers 1 to 10,000; 1,000 keys per DeleteObjects; 100 CORS rules. */
export const maximumPartNumber = 10_000;
export const maximumDeleteObjects = 1000;
export const maximumCorsRules = 100;

export interface CompletedPart {
  partNumber: number;
  /** As sent, usually with its quotes. */
  etag: string;
  /** ChecksumCRC32, ChecksumCRC32C, ChecksumCRC64NVME, ChecksumSHA1, ChecksumSHA256 when given. */
  checksums: Record<string, string>;
}

const partChecksumElements = [
  'ChecksumCRC32',
  'ChecksumCRC32C',
  'ChecksumCRC64NVME',
  'ChecksumSHA1',
  'ChecksumSHA256',
] as const;

/** CompleteMultipartUpload: parts in strictly ascending part number order, else InvalidPartOrder. */
export function parseCompleteMultipartUpload(body: string): CompletedPart[] {
  const root = parseXmlRoot(body, 'CompleteMultipartUpload')!;
  const parts = list(root, 'Part').map((part) => {
    const partNumber = positiveInteger(requiredText(part, 'PartNumber'), 'PartNumber');
    if (partNumber < 1 || partNumber > maximumPartNumber) {
      throw new S3Error('InvalidArgument', {
        message: 'Part number must be an integer between 1 and 10000, inclusive',
        elements: { ArgumentName: 'partNumber', ArgumentValue: partNumber },
      });
    }
    const checksums: Record<string, string> = {};
    for (const name of partChecksumElements) {
      const value = text(part, name);
      if (value !== undefined) checksums[name] = value;
    }
    return { partNumber, etag: requiredText(part, 'ETag'), checksums };
  });
  if (parts.length === 0) throw malformed('no Part');
  for (let index = 1; index < parts.length; index++) {
    if (parts[index].partNumber <= parts[index - 1].partNumber) throw new S3Error('InvalidPartOrder');
  }
  return parts;
}

export interface DeleteRequestObject {
  key: string;
  versionId?: string;
  /** The conditional delete's ETag, as sent (quoted or not, or "*"). */
  etag?: string;
  /** LastModifiedTime and Size, as sent: conditions of directory buckets only (see delete-objects.ts). */
  lastModifiedTime?: string;
  size?: string;
}

export interface DeleteRequest {
  quiet: boolean;
  objects: DeleteRequestObject[];
}

/** An <Object>'s conditional delete elements, only those it has. */
function deleteConditions(
  object: XmlObject,
): Pick<DeleteRequestObject, 'etag' | 'lastModifiedTime' | 'size'> {
  const conditions = {
    etag: text(object, 'ETag'),
    lastModifiedTime: text(object, 'LastModifiedTime'),
    size: text(object, 'Size'),
  };
  return Object.fromEntries(Object.entries(conditions).filter(([, value]) => value !== undefined));
}

/** Delete (DeleteObjects): 1 to 1000 objects, each with a Key, and optionally its conditions. */
export function parseDelete(body: string): DeleteRequest {
  const root = parseXmlRoot(body, 'Delete')!;
  const objects = list(root, 'Object').map((object) => ({
    key: requiredText(object, 'Key'),
    versionId: text(object, 'VersionId'),
    ...deleteConditions(object),
  }));
  if (objects.length === 0 || objects.length > maximumDeleteObjects) {
    throw malformed(`between 1 and ${maximumDeleteObjects} objects`);
  }
  return { quiet: booleanText(text(root, 'Quiet'), 'Quiet'), objects };
}

/** CreateBucketConfiguration (optional body of CreateBucket). */
export function parseCreateBucketConfiguration(body: string): { locationConstraint?: string } {
  const root = parseXmlRoot(body, 'CreateBucketConfiguration', true);
  if (root === undefined) return {};
  const locationConstraint = text(root, 'LocationConstraint');
  return { locationConstraint: locationConstraint === '' ? undefined : locationConstraint };
}

export interface Tag {
  key: string;
  value: string;
}

/** A <Tagging> document's tags, in order; their limits are checked by the caller (checkTags). */
export function parseTagging(body: string): Tag[] {
  const root = parseXmlRoot(body, 'Tagging')!;
  const tagSet = child(root, 'TagSet');
  if (tagSet === undefined) throw malformed('missing TagSet');
  return list(tagSet, 'Tag').map((tag) => ({
    key: requiredText(tag, 'Key'),
    value: text(tag, 'Value') ?? '',
  }));
}

/** The <Tagging> document of GetObjectTagging and GetBucketTagging. */
export function taggingDocument(tags: Readonly<Record<string, string>>): string {
  const tagSet = Object.entries(tags).map(
    ([key, value]) =>
      [
        'Tag',
        [
          ['Key', key],
          ['Value', value],
        ],
      ] as const,
  );
  return xmlDocument('Tagging', [['TagSet', tagSet]]);
}

export interface CorsRule {
  id?: string;
  allowedMethods: string[];
  allowedOrigins: string[];
  allowedHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds?: number;
}

const corsMethods = new Set(['GET', 'PUT', 'POST', 'DELETE', 'HEAD']);

/** CORSConfiguration: 1 to 100 rules, each with methods and origins; methods among GET PUT POST DELETE HEAD. */
export function parseCorsConfiguration(body: string): CorsRule[] {
  const root = parseXmlRoot(body, 'CORSConfiguration')!;
  const rules = list(root, 'CORSRule').map((rule) => {
    const allowedMethods = textList(rule, 'AllowedMethod');
    const allowedOrigins = textList(rule, 'AllowedOrigin');
    if (allowedMethods.length === 0 || allowedOrigins.length === 0)
      throw malformed('AllowedMethod and AllowedOrigin');
    for (const method of allowedMethods) {
      if (!corsMethods.has(method)) {
        throw new S3Error('InvalidRequest', {
          message: `Found unsupported HTTP method in CORS config. Unsupported method is ${method}`,
        });
      }
    }
    const allowedHeaders = textList(rule, 'AllowedHeader');
    // One "*" at most, matching any run of characters (S3's words for more).
    for (const [element, values] of [
      ['AllowedOrigin', allowedOrigins],
      ['AllowedHeader', allowedHeaders],
    ] as const) {
      const wild = values.find((value) => value.indexOf('*') !== value.lastIndexOf('*'));
      if (wild !== undefined) {
        throw new S3Error('InvalidRequest', {
          message: `${element} "${wild}" can not have more than one wildcard.`,
        });
      }
    }
    const maxAge = text(rule, 'MaxAgeSeconds');
    return {
      id: text(rule, 'ID'),
      allowedMethods,
      allowedOrigins,
      allowedHeaders,
      exposeHeaders: textList(rule, 'ExposeHeader'),
      maxAgeSeconds: maxAge === undefined ? undefined : positiveInteger(maxAge, 'MaxAgeSeconds'),
    };
  });
  if (rules.length === 0 || rules.length > maximumCorsRules)
    malformedNever(`1 to ${maximumCorsRules} CORSRule`);
  return rules;
}

function malformedNever(detail: string): never {
  throw malformed(detail);
}

export type VersioningStatus = 'Enabled' | 'Suspended';

/** VersioningConfiguration: Status Enabled or Suspended (absent keeps the state); MfaDelete Enabled or Disabled. */
export function parseVersioningConfiguration(body: string): {
  status?: VersioningStatus;
  mfaDelete?: 'Enabled' | 'Disabled';
} {
  const root = parseXmlRoot(body, 'VersioningConfiguration')!;
  const status = text(root, 'Status');
  if (status !== undefined && status !== 'Enabled' && status !== 'Suspended') throw malformed('Status');
  const mfaDelete = text(root, 'MfaDelete');
  if (mfaDelete !== undefined && mfaDelete !== 'Enabled' && mfaDelete !== 'Disabled')
    throw malformed('MfaDelete');
  return { status, mfaDelete };
}

export type RetentionMode = 'GOVERNANCE' | 'COMPLIANCE';

function retentionMode(value: string): RetentionMode {
  if (value !== 'GOVERNANCE' && value !== 'COMPLIANCE') throw malformed('Mode');
  return value;
}

export interface ObjectLockConfiguration {
  enabled: boolean;
  defaultRetention?: { mode: RetentionMode; days?: number; years?: number };
}

/**
 * ObjectLockConfiguration: ObjectLockEnabled "Enabled", and an optional default retention with a mode
 * and exactly one of Days or Years, a positive integer.
 */
export function parseObjectLockConfiguration(body: string): ObjectLockConfiguration {
  const root = parseXmlRoot(body, 'ObjectLockConfiguration')!;
  const enabled = text(root, 'ObjectLockEnabled');
  if (enabled !== undefined && enabled !== 'Enabled') throw malformed('ObjectLockEnabled');
  const rule = child(root, 'Rule');
  if (rule === undefined) return { enabled: enabled === 'Enabled' };
  const retention = child(rule, 'DefaultRetention');
  if (retention === undefined) throw malformed('DefaultRetention');
  const days = text(retention, 'Days');
  const years = text(retention, 'Years');
  if ((days === undefined) === (years === undefined)) throw malformed('exactly one of Days and Years');
  const period = positiveInteger(days ?? years!, days === undefined ? 'Years' : 'Days');
  if (period < 1) {
    throw new S3Error('InvalidRetentionPeriod', {
      message: 'Default retention period must be a positive integer value.',
    });
  }
  return {
    enabled: enabled === 'Enabled',
    defaultRetention: {
      mode: retentionMode(requiredText(retention, 'Mode')),
      days: days === undefined ? undefined : period,
      years: years === undefined ? undefined : period,
    },
  };
}

/** Retention: a mode and a RetainUntilDate (ISO 8601). */
export function parseRetention(body: string): { mode: RetentionMode; retainUntilDate: Date } | null {
  const root = parseXmlRoot(body, 'Retention')!;
  // An empty <Retention/> removes the retention (S3: "placing a new lock with empty parameters",
  // which a GOVERNANCE retention allows with x-amz-bypass-governance-retention).
  if (text(root, 'Mode') === undefined && text(root, 'RetainUntilDate') === undefined) return null;
  const mode = retentionMode(requiredText(root, 'Mode'));
  const until = requiredText(root, 'RetainUntilDate');
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(until) ? Date.parse(until) : Number.NaN;
  if (Number.isNaN(ms)) throw malformed('RetainUntilDate');
  return { mode, retainUntilDate: new Date(ms) };
}

/** LegalHold: Status ON or OFF. */
export function parseLegalHold(body: string): { status: 'ON' | 'OFF' } {
  const root = parseXmlRoot(body, 'LegalHold')!;
  const status = requiredText(root, 'Status');
  if (status !== 'ON' && status !== 'OFF') throw malformed('Status');
  return { status };
}
