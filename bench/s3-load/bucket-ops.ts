// The few whole-bucket operations the load generator needs besides the measured ones: create a
// bucket, list one page (ListObjectsV2), and remove everything under a prefix so each step's disk
// use is given back before the next.
import { createHash } from 'node:crypto';
import type { SignedS3Client } from './signed-client.ts';

export interface ListPage {
  keys: string[];
  nextContinuationToken: string | null;
}

export async function createBucket(client: SignedS3Client, bucket: string): Promise<void> {
  await client.request({ method: 'PUT', path: `/${bucket}` });
}

function unescapeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

/**
 * One ListObjectsV2 page. The body is read with two regular expressions rather than an XML
 * parser: the client shares the CPU with the server, and only Key and NextContinuationToken matter.
 */
export async function listPage(
  client: SignedS3Client,
  bucket: string,
  options: { prefix?: string; maximumKeys: number; continuationToken?: string | null },
): Promise<ListPage> {
  const query: Record<string, string> = { 'list-type': '2', 'max-keys': String(options.maximumKeys) };
  if (options.prefix) query.prefix = options.prefix;
  if (options.continuationToken) query['continuation-token'] = options.continuationToken;
  const response = await client.request({ method: 'GET', path: `/${bucket}`, query, keepBody: true });
  const text = response.body?.toString('utf8') ?? '';
  const keys = Array.from(text.matchAll(/<Key>([^<]*)<\/Key>/g), (match) => unescapeXml(match[1]));
  const truncated = /<IsTruncated>true<\/IsTruncated>/.test(text);
  const token = /<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(text)?.[1];
  return { keys, nextContinuationToken: truncated && token ? unescapeXml(token) : null };
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** DeleteObjects in batches of 1000 (the S3 maximum per request), quiet mode; returns the count. */
export async function deletePrefix(client: SignedS3Client, bucket: string, prefix: string): Promise<number> {
  let deleted = 0;
  for (;;) {
    // Always the first page: what was deleted is gone, so the next batch comes first.
    const page = await listPage(client, bucket, { prefix, maximumKeys: 1000 });
    if (page.keys.length === 0) return deleted;
    const document = `<Delete><Quiet>true</Quiet>${page.keys
      .map((key) => `<Object><Key>${escapeXml(key)}</Key></Object>`)
      .join('')}</Delete>`;
    const body = Buffer.from(document, 'utf8');
    // "The Content-MD5 or x-amz-sdk-checksum-algorithm header is required for all Multi-Object
    // Delete requests" (S3 API reference, DeleteObjects).
    await client.request({
      method: 'POST',
      path: `/${bucket}`,
      query: { delete: '' },
      headers: {
        'content-md5': createHash('md5').update(body).digest('base64'),
        'content-type': 'application/xml',
      },
      body,
      keepBody: true,
    });
    deleted += page.keys.length;
  }
}
