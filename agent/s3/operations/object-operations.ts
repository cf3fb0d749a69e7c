// The object-level operations (objects, multipart uploads, tags, retention), by operation name.
import type { Operation } from '../endpoint.ts';
import type { OperationHandler } from '../operation-context.ts';

export const objectOperations: { [Name in Operation]?: OperationHandler<Name> } = {};
