// The object-level operations (objects, multipart uploads, tags, retention), by operation name.
import type { Operation } from '../endpoint.ts';
import type { OperationHandler } from '../operation-context.ts';
import {
  handleAbortMultipartUpload,
  handleCompleteMultipartUpload,
  handleListParts,
} from './complete-multipart-upload.ts';
import { handleDeleteObject } from './delete-object.ts';
import { handleGetObject, handleHeadObject } from './get-object.ts';
import { handlePutObject } from './put-object.ts';
import { handleCreateMultipartUpload, handleUploadPart, handleUploadPartCopy } from './upload-part.ts';

export const objectOperations: { [Name in Operation]?: OperationHandler<Name> } = {
  PutObject: handlePutObject,
  GetObject: handleGetObject,
  HeadObject: handleHeadObject,
  DeleteObject: handleDeleteObject,
  CreateMultipartUpload: handleCreateMultipartUpload,
  UploadPart: handleUploadPart,
  UploadPartCopy: handleUploadPartCopy,
  CompleteMultipartUpload: handleCompleteMultipartUpload,
  AbortMultipartUpload: handleAbortMultipartUpload,
  ListParts: handleListParts,
};
