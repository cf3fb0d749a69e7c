// GetObjectTagging, PutObjectTagging, DeleteObjectTagging
// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectTagging.html): a version's whole tag
// set, at most 10 tags, keys up to 128 characters and values up to 256 (InvalidTag otherwise).
import type { OperationHandler } from '../operation-context.ts';
import { discardRequestBody } from '../request-body.ts';
import { sendEmpty, sendXml } from '../responses.ts';
import { parseTagging, taggingDocument } from '../xml.ts';
import { readConfigurationXml } from './bucket-common.ts';
import { checkTags } from './object-attributes.ts';
import { versionIdHeader } from './version-headers.ts';

export const handleGetObjectTagging: OperationHandler<'GetObjectTagging'> = async (context, endpoint) => {
  if (!context.request.complete) await discardRequestBody(context.request);
  const { tags, versionId } = context.layer.tagging.get(endpoint);
  sendXml(context.response, 200, taggingDocument(tags), {
    ...context.commonHeaders,
    'x-amz-version-id': versionIdHeader(versionId, endpoint.versionId),
  });
};

export const handlePutObjectTagging: OperationHandler<'PutObjectTagging'> = async (context, endpoint) => {
  const parsed = parseTagging(await readConfigurationXml(context));
  const tags = checkTags(parsed.map((tag) => [tag.key, tag.value] as const));
  const { versionId } = await context.layer.tagging.put(endpoint, tags);
  sendEmpty(context.response, 200, {
    ...context.commonHeaders,
    'x-amz-version-id': versionIdHeader(versionId, endpoint.versionId),
  });
};

export const handleDeleteObjectTagging: OperationHandler<'DeleteObjectTagging'> = async (
  context,
  endpoint,
) => {
  if (!context.request.complete) await discardRequestBody(context.request);
  const { versionId } = await context.layer.tagging.delete(endpoint);
  sendEmpty(context.response, 204, {
    ...context.commonHeaders,
    'x-amz-version-id': versionIdHeader(versionId, endpoint.versionId),
  });
};
