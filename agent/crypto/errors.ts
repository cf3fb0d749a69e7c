// The encryption layer's operating errors. A caller (the object layer, then the protocol layer's
// one error table) turns them into S3 answers; a broken invariant is an assertion instead.

export type CryptoErrorCode =
  /** A chunk, a wrapped key or an envelope failed authentication: the bytes were altered. */
  | 'TAMPERED'
  /** The stored ciphertext ended before the last chunk (or ran past it). */
  | 'TRUNCATED'
  /** SSE-C: the customer key is not 256 bits of base64, or its MD5 header does not match it. */
  | 'INVALID_CUSTOMER_KEY'
  /** SSE-C: the key presented on read is not the one the object was written with. */
  | 'WRONG_CUSTOMER_KEY'
  /** SSE-C: the object needs a customer key and none was given (or one was given and none is needed). */
  | 'CUSTOMER_KEY_MISMATCH'
  /** A wrapped key names a master key or tenant key that this agent does not hold. */
  | 'KEY_NOT_FOUND'
  /** A master key source holds something other than 256-bit keys. */
  | 'INVALID_MASTER_KEY'
  /** An envelope or key file has an unknown magic or format version. */
  | 'UNKNOWN_FORMAT';

export class CryptoError extends Error {
  readonly code: CryptoErrorCode;

  constructor(code: CryptoErrorCode, message: string) {
    super(message);
    this.name = 'CryptoError';
    this.code = code;
  }
}

export function isCryptoError(error: unknown, code?: CryptoErrorCode): error is CryptoError {
  return error instanceof CryptoError && (code === undefined || error.code === code);
}
