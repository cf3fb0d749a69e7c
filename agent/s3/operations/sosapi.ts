// Veeam's Smart Object Storage API (SOSAPI), version 1. Veeam Backup & Replication reads two
// documents from every bucket it uses as an object storage repository, as ordinary S3 objects:
//   .system-d26a9498-cb7c-4a87-a44a-8ae204f5ba6c/system.xml   what the storage can do (SystemInfo)
//   .system-d26a9498-cb7c-4a87-a44a-8ae204f5ba6c/capacity.xml  its capacity in bytes (CapacityInfo)
// Coffre serves them as virtual objects, computed on each request from the tenant's quota and real
// usage; nothing is stored. Veeam's own document quotes the string values ("1.0"), and Veeam
// identifies itself with "APN/1.0 Veeam/1.0" in its User-Agent.
//
// They are served to every client (GET, HEAD), and listed only by listings whose prefix reaches
// into their folder: a listing of the whole bucket does not show them, so tools that mirror or
// empty a bucket (rclone sync, aws s3 rm --recursive) are not shown objects they cannot delete.
import { createHash } from 'node:crypto';
import { xmlDocument } from '../xml.ts';

export const sosapiFolder = '.system-d26a9498-cb7c-4a87-a44a-8ae204f5ba6c/';
export const sosapiObjectNames = ['capacity.xml', 'system.xml'] as const;
export type SosapiObjectName = (typeof sosapiObjectNames)[number];
export const sosapiSystemKey = `${sosapiFolder}system.xml`;
export const sosapiCapacityKey = `${sosapiFolder}capacity.xml`;
/** SOSAPI: "APN/1.0 Veeam/1.0" appears in the User-Agent of Veeam's requests. */
export const veeamUserAgentMarker = 'APN/1.0 Veeam/1.0';
export const sosapiProtocolVersion = '1.0';
/** The block size Coffre suggests to Veeam: its default 1 MiB blocks suit the erasure set. */
export const recommendedBlockSizeKibibytes = 1024;
/** S3's DeleteObjects limit, which Veeam uses to size its batches. */
export const multiObjectDeleteLimit = 1000;

export interface CapacityFigures {
  capacityBytes: number;
  availableBytes: number;
  usedBytes: number;
}

export function isVeeamUserAgent(userAgent: string | undefined): boolean {
  return userAgent?.includes(veeamUserAgentMarker) === true;
}

/** The virtual object a key names, or null. */
export function sosapiObjectOf(key: string | undefined): SosapiObjectName | null {
  if (key === sosapiSystemKey) return 'system.xml';
  if (key === sosapiCapacityKey) return 'capacity.xml';
  return null;
}

/** The request shapes that may reach a SOSAPI object. */
export type SosapiRequest =
  | { operation: 'GetObject' | 'HeadObject'; key: string; versionId?: string }
  | { operation: 'ListObjects' | 'ListObjectsV2' | 'ListObjectVersions'; prefix?: string };

export type SosapiTarget =
  | { kind: 'object'; name: SosapiObjectName }
  | { kind: 'listing'; keys: string[] }
  | null;

/**
 * Whether a request is about the SOSAPI objects: a GET or HEAD of one of them (without a version
 * id other than "null": they have only the current version), or a listing whose prefix is a
 * non-empty prefix of their keys or lies inside their folder. For a listing, the virtual keys that
 * the prefix selects (the caller applies delimiter, markers and max-keys as for real keys).
 */
export function sosapiTarget(request: SosapiRequest): SosapiTarget {
  if ('key' in request) {
    const name = sosapiObjectOf(request.key);
    if (name === null) return null;
    if (request.versionId !== undefined && request.versionId !== 'null') return null;
    return { kind: 'object', name };
  }
  const prefix = request.prefix ?? '';
  if (prefix === '') return null;
  const keys = [sosapiCapacityKey, sosapiSystemKey].filter((key) => key.startsWith(prefix));
  return keys.length === 0 ? null : { kind: 'listing', keys };
}

/** SystemInfo: protocol version, model, capabilities (capacity reports only), recommendations. */
export function systemDocument(options: { modelName: string }): string {
  return xmlDocument(
    'SystemInfo',
    [
      ['ProtocolVersion', `"${sosapiProtocolVersion}"`],
      ['ModelName', `"${options.modelName}"`],
      [
        'ProtocolCapabilities',
        [
          ['CapacityInfo', true],
          ['UploadSessions', false],
          ['IAMSTS', false],
        ],
      ],
      [
        'SystemRecommendations',
        [
          ['S3MultiObjectDeleteLimit', multiObjectDeleteLimit],
          ['KbBlockSize', recommendedBlockSizeKibibytes],
        ],
      ],
    ],
    { namespace: false },
  );
}

/** CapacityInfo in bytes. Available never goes below 0 (usage may exceed a lowered quota). */
export function capacityDocument(figures: CapacityFigures): string {
  return xmlDocument(
    'CapacityInfo',
    [
      ['Capacity', Math.max(0, Math.floor(figures.capacityBytes))],
      ['Available', Math.max(0, Math.floor(figures.availableBytes))],
      ['Used', Math.max(0, Math.floor(figures.usedBytes))],
    ],
    { namespace: false },
  );
}

/** The capacity figures of a tenant with a quota (null: no quota, the drives' capacity instead). */
export function capacityFigures(options: {
  quotaBytes: number | null;
  usedBytes: number;
  storageTotalBytes: number;
  storageFreeBytes: number;
}): CapacityFigures {
  if (options.quotaBytes !== null) {
    return {
      capacityBytes: options.quotaBytes,
      availableBytes: Math.max(0, options.quotaBytes - options.usedBytes),
      usedBytes: options.usedBytes,
    };
  }
  return {
    capacityBytes: options.storageTotalBytes,
    availableBytes: options.storageFreeBytes,
    usedBytes: options.usedBytes,
  };
}

/** A virtual object as GET and HEAD answer it: its bytes and the ETag of those bytes. */
export interface SosapiObject {
  key: string;
  body: Buffer;
  etag: string;
  contentType: 'application/xml';
}

export function sosapiObject(name: SosapiObjectName, document: string): SosapiObject {
  const body = Buffer.from(document, 'utf8');
  return {
    key: `${sosapiFolder}${name}`,
    body,
    etag: createHash('md5').update(body).digest('hex'),
    contentType: 'application/xml',
  };
}
