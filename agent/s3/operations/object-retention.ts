// GetObjectRetention, PutObjectRetention, GetObjectLegalHold, PutObjectLegalHold
// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectRetention.html, ...): the documents are
// checked as S3 checks them (a mode among GOVERNANCE and COMPLIANCE, an ISO 8601 date in the future,
// ON or OFF) and stored through the layer, which refuses a bucket without Object Lock with
// InvalidRequest "Bucket is missing Object Lock Configuration".
import { S3Error } from '../errors.ts';
import type { OperationHandler } from '../operation-context.ts';
import { discardRequestBody } from '../request-body.ts';
import { sendEmpty, sendXml } from '../responses.ts';
import { parseLegalHold, parseRetention, xmlDocument } from '../xml.ts';
import { readConfigurationXml, requireBodyIntegrityHeader } from './bucket-common.ts';
import { governanceBypassOf } from './delete-object.ts';
import { versionIdHeader } from './version-headers.ts';

export const handleGetObjectRetention: OperationHandler<'GetObjectRetention'> = async (context, endpoint) => {
  if (!context.request.complete) await discardRequestBody(context.request);
  const { retention, versionId } = context.layer.lockState.get(endpoint);
  if (retention === null) {
    throw new S3Error('NoSuchObjectLockConfiguration', {
      message: 'The specified object does not have a ObjectLock configuration',
    });
  }
  sendXml(
    context.response,
    200,
    xmlDocument('Retention', [
      ['Mode', retention.mode],
      ['RetainUntilDate', new Date(retention.retainUntilMs)],
    ]),
    { ...context.commonHeaders, 'x-amz-version-id': versionIdHeader(versionId, endpoint.versionId) },
  );
};

export const handlePutObjectRetention: OperationHandler<'PutObjectRetention'> = async (context, endpoint) => {
  // S3 marks PutObjectRetention and PutObjectLegalHold "checksum required": Content-MD5 or x-amz-checksum-*.
  requireBodyIntegrityHeader(context);
  const retention = parseRetention(await readConfigurationXml(context));
  if (retention !== null && retention.retainUntilDate.getTime() <= context.clock()) {
    throw new S3Error('InvalidArgument', {
      message: 'The retain until date must be in the future!',
      elements: { ArgumentName: 'RetainUntilDate', ArgumentValue: retention.retainUntilDate.toISOString() },
    });
  }
  // Which changes Object Lock allows (a COMPLIANCE date only grows; GOVERNANCE yields, and is
  // removed by an empty <Retention/>, only with x-amz-bypass-governance-retention from a key allowed
  // to bypass) is decided by the layer.
  const { versionId } = await context.layer.lockState.putRetention(
    endpoint,
    retention === null ? null : { mode: retention.mode, retainUntilMs: retention.retainUntilDate.getTime() },
    { bypassGovernanceRetention: governanceBypassOf(context) },
  );
  sendEmpty(context.response, 200, {
    ...context.commonHeaders,
    'x-amz-version-id': versionIdHeader(versionId, endpoint.versionId),
  });
};

export const handleGetObjectLegalHold: OperationHandler<'GetObjectLegalHold'> = async (context, endpoint) => {
  if (!context.request.complete) await discardRequestBody(context.request);
  const { legalHold, versionId } = context.layer.lockState.get(endpoint);
  sendXml(context.response, 200, xmlDocument('LegalHold', [['Status', legalHold ? 'ON' : 'OFF']]), {
    ...context.commonHeaders,
    'x-amz-version-id': versionIdHeader(versionId, endpoint.versionId),
  });
};

export const handlePutObjectLegalHold: OperationHandler<'PutObjectLegalHold'> = async (context, endpoint) => {
  requireBodyIntegrityHeader(context);
  const { status } = parseLegalHold(await readConfigurationXml(context));
  const { versionId } = await context.layer.lockState.putLegalHold(endpoint, status === 'ON');
  sendEmpty(context.response, 200, {
    ...context.commonHeaders,
    'x-amz-version-id': versionIdHeader(versionId, endpoint.versionId),
  });
};
