// The bucket-level operations and listings, by operation name, for the dispatcher.
import type { Operation } from '../endpoint.ts';
import type { OperationHandler } from '../operation-context.ts';

export const bucketOperations: { [Name in Operation]?: OperationHandler<Name> } = {};
