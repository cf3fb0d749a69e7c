// Checks made before a request body is read, so a client is not made to stream gigabytes that
// would be refused anyway: an ACL other than the owner's full control (acl-rules.ts), the declared
// size against the quotas, and a write-only key about to overwrite an existing object of a bucket
// without versioning. The object layer checks the last two again at commit, under the key lock,
// with the real size (agent/objects/quota-admission.ts).
import type { ObjectLayer } from '../objects/object-layer.ts';
import type { BucketRecord } from '../objects/records.ts';
import type { Endpoint } from './endpoint.ts';
import { S3Error } from './errors.ts';
import type { Caller } from './operation-context.ts';
import { checkWriteAclHeaders } from './operations/acl-rules.ts';

function declaredBodyBytes(header: (name: string) => string | undefined): number {
  // aws-chunked bodies declare their payload size apart from the framing around it.
  const declared = header('x-amz-decoded-content-length') ?? header('content-length');
  const bytes = Number(declared);
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : 0;
}

export function precheckWrite(
  layer: ObjectLayer,
  endpoint: Endpoint,
  caller: Caller,
  bucketRecord: BucketRecord | undefined,
  header: (name: string) => string | undefined,
): void {
  checkWriteAclHeaders(endpoint, caller.tenantId, header);
  if (endpoint.operation !== 'PutObject' && endpoint.operation !== 'UploadPart') return;
  if (
    endpoint.operation === 'PutObject' &&
    caller.role === 'write-only' &&
    bucketRecord !== undefined &&
    bucketRecord.versioning !== 'Enabled' &&
    nullVersionExists(layer, endpoint.bucket, endpoint.key)
  ) {
    throw new S3Error('AccessDenied', {
      message: 'A write-only key cannot overwrite an existing object in a bucket without versioning.',
    });
  }
  layer.admission.precheck(endpoint.bucket, declaredBodyBytes(header));
}

function nullVersionExists(layer: ObjectLayer, bucket: string, key: string): boolean {
  try {
    layer.objects.head({ bucket, key, versionId: 'null' });
    return true;
  } catch {
    return false;
  }
}
