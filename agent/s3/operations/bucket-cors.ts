// GetBucketCors, PutBucketCors, DeleteBucketCors, and the CORS preflight (OPTIONS) answered from the
// bucket's rules.
import { S3Error } from '../errors.ts';
import type { OperationHandler } from '../operation-context.ts';
import { sendEmpty, sendXml } from '../responses.ts';
import { parseCorsConfiguration, xmlDocument } from '../xml.ts';
import { checkedBucket } from './bucket-basics.ts';
import { readConfigurationXml, requireBodyIntegrityHeader } from './bucket-common.ts';
import { corsResponseHeaders, matchCorsRule, parseRequestedHeaders } from './cors-rules.ts';

export const handleGetBucketCors: OperationHandler<'GetBucketCors'> = async (context, endpoint) => {
  const rules = context.layer.buckets.getCors(endpoint.bucket);
  const xml = xmlDocument(
    'CORSConfiguration',
    rules.map((rule) => [
      'CORSRule',
      [
        ['ID', rule.id],
        ...(rule.allowedHeaders ?? []).map((name) => ['AllowedHeader', name] as const),
        ...rule.allowedMethods.map((method) => ['AllowedMethod', method] as const),
        ...rule.allowedOrigins.map((origin) => ['AllowedOrigin', origin] as const),
        ...(rule.exposeHeaders ?? []).map((name) => ['ExposeHeader', name] as const),
        ['MaxAgeSeconds', rule.maxAgeSeconds],
      ],
    ]),
  );
  sendXml(context.response, 200, xml, context.commonHeaders);
};

export const handlePutBucketCors: OperationHandler<'PutBucketCors'> = async (context, endpoint) => {
  requireBodyIntegrityHeader(context);
  const rules = parseCorsConfiguration(await readConfigurationXml(context));
  await context.layer.buckets.setCors(endpoint.bucket, rules);
  sendEmpty(context.response, 200, context.commonHeaders);
};

export const handleDeleteBucketCors: OperationHandler<'DeleteBucketCors'> = async (context, endpoint) => {
  checkedBucket(context);
  await context.layer.buckets.setCors(endpoint.bucket, null);
  sendEmpty(context.response, 204, context.commonHeaders);
};

/**
 * A browser's preflight carries no credentials: it is answered from the bucket's CORS rules alone.
 * S3 answers 400 without Origin or Access-Control-Request-Method, 403 AccessForbidden when no rule
 * allows the request, and 200 with the Access-Control-* headers of the first matching rule. Unlike
 * S3, a bucket without CORS configuration is refused with the same words as one whose rules do not
 * match, and as a name without any bucket: a preflight names no tenant, so it is answered from the
 * buckets of that name in every namespace (the dispatcher picks one whose rules allow it), and
 * whatever it refuses must not tell whether some tenant has a bucket of that name.
 */
export const handleOptions: OperationHandler<'Options'> = async (context, endpoint) => {
  const origin = context.header('origin');
  if (origin === undefined) throw new S3Error('BadRequest');
  const method = context.header('access-control-request-method');
  if (method === undefined) {
    throw new S3Error('BadRequest', { message: 'Invalid Access-Control-Request-Method: null' });
  }
  const request = {
    origin,
    method,
    requestedHeaders: parseRequestedHeaders(context.header('access-control-request-headers')),
  };
  const rules = context.bucketRecord?.cors;
  const rule = rules ? matchCorsRule(rules, request) : undefined;
  if (rule === undefined) {
    throw new S3Error('AccessForbidden', {
      elements: { Method: method, ResourceType: endpoint.key === undefined ? 'BUCKET' : 'OBJECT' },
    });
  }
  sendEmpty(context.response, 200, { ...context.commonHeaders, ...corsResponseHeaders(rule, request) });
};
