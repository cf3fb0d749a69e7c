// Conditional reads, evaluated as S3 does (RFC 7232 section 6 order): If-Match, else
// If-Unmodified-Since, decides 412 Precondition Failed; then If-None-Match, else If-Modified-Since,
// decides 304 Not Modified. S3's own words for the pairs: "If-Match evaluates to true and
// If-Unmodified-Since evaluates to false: 200 OK"; "If-None-Match evaluates to false and
// If-Modified-Since evaluates to true: 304 Not Modified". The same rules serve
// x-amz-copy-source-if-* on CopyObject and UploadPartCopy, where every failure is 412.
import { normaliseEtag } from '../../objects/validation.ts';

export interface ReadConditions {
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifUnmodifiedSince?: string;
}

export type ConditionOutcome = 'proceed' | 'precondition-failed' | 'not-modified';

/** True when an If-Match / If-None-Match list ("*" or comma-separated, quoted or not) names the ETag. */
export function etagListMatches(list: string, etag: string): boolean {
  return list
    .split(',')
    .map((item) => item.trim())
    .some((item) => item === '*' || normaliseEtag(item) === etag);
}

/** An HTTP date; an unparseable one is ignored, as RFC 7232 requires. */
function parseHttpDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** HTTP dates have one-second resolution, so a version's time is compared truncated to its second. */
function seconds(ms: number): number {
  return Math.floor(ms / 1000);
}

export function evaluateReadConditions(
  conditions: ReadConditions,
  version: { etag: string; lastModifiedMs: number },
): ConditionOutcome {
  const modified = seconds(version.lastModifiedMs);
  if (conditions.ifMatch !== undefined) {
    if (!etagListMatches(conditions.ifMatch, version.etag)) return 'precondition-failed';
  } else {
    const since = parseHttpDate(conditions.ifUnmodifiedSince);
    if (since !== undefined && modified > seconds(since)) return 'precondition-failed';
  }
  if (conditions.ifNoneMatch !== undefined) {
    if (etagListMatches(conditions.ifNoneMatch, version.etag)) return 'not-modified';
  } else {
    const since = parseHttpDate(conditions.ifModifiedSince);
    if (since !== undefined && modified <= seconds(since)) return 'not-modified';
  }
  return 'proceed';
}
