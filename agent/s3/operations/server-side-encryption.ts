// Server-side encryption headers (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerSideEncryptionCustomerKeys.html).
// Every object is encrypted at rest whatever the request says (AES-256-GCM under the tenant's key),
// so x-amz-server-side-encryption: AES256 is accepted and always answered. SSE-C puts the
// customer's own key in three headers (x-amz-copy-source-... for a copy's source); Coffre uses it
// to wrap the version's data key and never stores it. Bad SSE-C headers are InvalidArgument with
// S3's messages; KMS is not offered (NotImplemented).
import type { TLSSocket } from 'node:tls';
import {
  type CustomerKey,
  hasCustomerKeyHeaders,
  isCryptoError,
  parseCustomerKey,
} from '../../crypto/index.ts';
import type { EncryptionRecord } from '../../objects/records.ts';
import { S3Error } from '../errors.ts';
import type { OperationContext } from '../operation-context.ts';
import type { ResponseHeaders } from '../responses.ts';

const customerPrefix = 'x-amz-server-side-encryption-customer-';
const copySourceCustomerPrefix = 'x-amz-copy-source-server-side-encryption-customer-';

/**
 * S3: "Amazon S3 rejects any requests made over HTTP (rather than HTTPS) when using SSE-C." A key
 * sent in clear over the loopback interface never leaves the host, so local tools and tests may.
 */
function assertSecureTransport(context: OperationContext): void {
  const socket = context.request.socket as TLSSocket;
  if (socket.encrypted) return;
  const remote = socket.remoteAddress ?? '';
  if (remote === '127.0.0.1' || remote === '::1' || remote === '::ffff:127.0.0.1') return;
  throw new S3Error('InvalidRequest', {
    message:
      'Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.',
  });
}

function customerKeyFrom(context: OperationContext, prefix: string): CustomerKey | null {
  const headers = {
    algorithm: context.header(`${prefix}algorithm`),
    key: context.header(`${prefix}key`),
    keyMd5: context.header(`${prefix}key-md5`),
  };
  if (!hasCustomerKeyHeaders(headers)) return null;
  assertSecureTransport(context);
  try {
    return parseCustomerKey(headers);
  } catch (error) {
    if (!isCryptoError(error, 'INVALID_CUSTOMER_KEY')) throw error;
    throw new S3Error('InvalidArgument', {
      message: error.message,
      elements: { ArgumentName: `${prefix}algorithm`, ArgumentValue: headers.algorithm ?? 'null' },
    });
  }
}

/** KMS (aws:kms, aws:kms:dsse), for an object or as a bucket's default encryption, is not offered. */
export function kmsNotAvailable(): S3Error {
  return new S3Error('NotImplemented', {
    message: 'Server-side encryption with AWS KMS keys is not available; objects are encrypted with AES256.',
  });
}

/** The request's SSE-C key, or null. Also checks x-amz-server-side-encryption (AES256 only). */
export function readCustomerKey(context: OperationContext): CustomerKey | null {
  const customerKey = customerKeyFrom(context, customerPrefix);
  const requested = context.header('x-amz-server-side-encryption');
  // A KMS key named without asking for KMS: S3's InvalidArgument (as captured from S3), never ignored.
  if (
    context.header('x-amz-server-side-encryption-aws-kms-key-id') !== undefined &&
    !requested?.startsWith('aws:kms')
  ) {
    throw new S3Error('InvalidArgument', {
      message:
        'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms',
    });
  }
  if (requested !== undefined) {
    if (customerKey !== null) {
      throw new S3Error('InvalidArgument', {
        message:
          'Server Side Encryption with Customer provided key is incompatible with the encryption method specified',
        elements: { ArgumentName: 'x-amz-server-side-encryption', ArgumentValue: requested },
      });
    }
    if (requested.startsWith('aws:kms')) throw kmsNotAvailable();
    if (requested !== 'AES256') {
      throw new S3Error('InvalidArgument', {
        message: 'The encryption method specified is not supported',
        elements: { ArgumentName: 'x-amz-server-side-encryption', ArgumentValue: requested },
      });
    }
  }
  return customerKey;
}

/** CopyObject / UploadPartCopy: the source version's SSE-C key, or null. */
export function readCopySourceCustomerKey(context: OperationContext): CustomerKey | null {
  return customerKeyFrom(context, copySourceCustomerPrefix);
}

/** The encryption record a new version or upload takes from its request's key (SSE-C), if any. */
export function encryptionAttributes(context: OperationContext): {
  customerKey: CustomerKey | null;
  encryption?: EncryptionRecord;
} {
  const customerKey = readCustomerKey(context);
  return customerKey === null
    ? { customerKey }
    : { customerKey, encryption: { algorithm: 'SSE-C', customerKeyMd5: customerKey.keyMd5 } };
}

/** What S3 answers about a version's encryption: SSE-C's algorithm and key MD5, else AES256. */
export function encryptionHeaders(encryption: EncryptionRecord | null | undefined): ResponseHeaders {
  if (encryption?.algorithm === 'SSE-C') {
    return {
      'x-amz-server-side-encryption-customer-algorithm': 'AES256',
      'x-amz-server-side-encryption-customer-key-MD5': encryption.customerKeyMd5,
    };
  }
  return { 'x-amz-server-side-encryption': 'AES256' };
}
