// Whether a deployed agent serves S3. The agent's own /health is not there yet, so the default
// check proves the S3 stack end to end: a ListBuckets signed with the region's admin key when
// @aws-sdk/client-s3 is installed, otherwise an unsigned `GET /` whose answer must be well-formed
// S3 XML (403 AccessDenied is fine: it took the whole stack to produce it). The check is a
// parameter of the rollout, so tests and the operator can inject their own.
import http from 'node:http';
import https from 'node:https';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { AdminCredentials } from './agent-config.ts';

export interface HealthTarget {
  name: string;
  endpoint: string;
}

export interface HealthResult {
  healthy: boolean;
  detail: string;
}

export type HealthCheck = (target: HealthTarget) => Promise<HealthResult>;

export interface S3HealthCheckOptions {
  /** Signs a ListBuckets with this key; without it, an unsigned GET /. */
  credentials?: AdminCredentials | null;
  region?: string;
  timeoutMs?: number;
  /** PEM of the CA that signed the agents' TLS certificates, when it is not a public one. */
  trustedCertificatePem?: string;
}

const DEFAULT_HEALTH_REQUEST_TIMEOUT_MS = 5_000;
/** An S3 error or listing document is small; a bigger answer is not from the agent. */
const MAXIMUM_HEALTH_BODY_BYTES = 64 * 1024;

/** True when `body` is an S3 XML document: an <Error> with a <Code>, or a bucket listing. */
export function isS3XmlAnswer(body: string): boolean {
  if (XMLValidator.validate(body) !== true) return false;
  const document = new XMLParser({ ignoreAttributes: true, processEntities: false }).parse(body);
  return typeof document?.Error?.Code === 'string' || document?.ListAllMyBucketsResult !== undefined;
}

function unsignedGet(endpoint: string, options: S3HealthCheckOptions): Promise<HealthResult> {
  const url = new URL('/', endpoint);
  const client = url.protocol === 'https:' ? https : http;
  const timeoutMs = options.timeoutMs ?? DEFAULT_HEALTH_REQUEST_TIMEOUT_MS;
  return new Promise((resolve) => {
    const request = client.get(url, { timeout: timeoutMs, ca: options.trustedCertificatePem }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
        if (body.length > MAXIMUM_HEALTH_BODY_BYTES) response.destroy();
      });
      response.on('end', () => {
        const wellFormed = isS3XmlAnswer(body);
        resolve({
          healthy: wellFormed,
          detail: `GET / answered ${response.statusCode}${wellFormed ? ' with S3 XML' : ', not S3 XML'}`,
        });
      });
      response.on('error', (error) => resolve({ healthy: false, detail: error.message }));
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', (error) => resolve({ healthy: false, detail: `GET /: ${error.message}` }));
  });
}

async function signedListBuckets(
  endpoint: string,
  credentials: AdminCredentials,
  options: S3HealthCheckOptions,
): Promise<HealthResult | null> {
  const sdk = await import('@aws-sdk/client-s3').catch(() => null);
  const handlerModule = await import('@smithy/node-http-handler').catch(() => null);
  if (sdk === null || handlerModule === null) return null;
  const timeoutMs = options.timeoutMs ?? DEFAULT_HEALTH_REQUEST_TIMEOUT_MS;
  const client = new sdk.S3Client({
    endpoint,
    region: options.region ?? 'fr-par',
    forcePathStyle: true,
    credentials,
    maxAttempts: 1,
    requestHandler: new handlerModule.NodeHttpHandler({
      connectionTimeout: timeoutMs,
      requestTimeout: timeoutMs,
      httpsAgent: new https.Agent({ ca: options.trustedCertificatePem }),
    }),
  });
  try {
    const answer = await client.send(new sdk.ListBucketsCommand({}));
    return { healthy: true, detail: `signed ListBuckets answered (${answer.Buckets?.length ?? 0} buckets)` };
  } catch (error) {
    return {
      healthy: false,
      detail: `signed ListBuckets: ${(error as Error).name}: ${(error as Error).message}`,
    };
  } finally {
    client.destroy();
  }
}

export function s3HealthCheck(options: S3HealthCheckOptions = {}): HealthCheck {
  return async (target) => {
    if (options.credentials) {
      const signed = await signedListBuckets(target.endpoint, options.credentials, options);
      if (signed !== null) return signed;
    }
    return unsignedGet(target.endpoint, options);
  };
}
