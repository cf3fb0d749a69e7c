// The object-level operations (objects, multipart uploads, ACLs, tags, retention), by operation name.
import type { Operation } from '../endpoint.ts';
import type { OperationHandler } from '../operation-context.ts';
import { handleGetObjectAcl, handlePutObjectAcl } from './access-control-lists.ts';
import {
  handleAbortMultipartUpload,
  handleCompleteMultipartUpload,
  handleListParts,
} from './complete-multipart-upload.ts';
import { handleCopyObject } from './copy-object.ts';
import { handleDeleteObject } from './delete-object.ts';
import { handleDeleteObjects } from './delete-objects.ts';
import { handleGetObject, handleHeadObject } from './get-object.ts';
import { handleGetObjectAttributes } from './get-object-attributes.ts';
import {
  handleGetObjectLegalHold,
  handleGetObjectRetention,
  handlePutObjectLegalHold,
  handlePutObjectRetention,
} from './object-retention.ts';
import {
  handleDeleteObjectTagging,
  handleGetObjectTagging,
  handlePutObjectTagging,
} from './object-tagging.ts';
import { handlePutObject } from './put-object.ts';
import { handleCreateMultipartUpload, handleUploadPart, handleUploadPartCopy } from './upload-part.ts';

export const objectOperations: { [Name in Operation]?: OperationHandler<Name> } = {
  PutObject: handlePutObject,
  GetObject: handleGetObject,
  HeadObject: handleHeadObject,
  GetObjectAttributes: handleGetObjectAttributes,
  DeleteObject: handleDeleteObject,
  DeleteObjects: handleDeleteObjects,
  CopyObject: handleCopyObject,
  GetObjectAcl: handleGetObjectAcl,
  PutObjectAcl: handlePutObjectAcl,
  GetObjectTagging: handleGetObjectTagging,
  PutObjectTagging: handlePutObjectTagging,
  DeleteObjectTagging: handleDeleteObjectTagging,
  GetObjectRetention: handleGetObjectRetention,
  PutObjectRetention: handlePutObjectRetention,
  GetObjectLegalHold: handleGetObjectLegalHold,
  PutObjectLegalHold: handlePutObjectLegalHold,
  CreateMultipartUpload: handleCreateMultipartUpload,
  UploadPart: handleUploadPart,
  UploadPartCopy: handleUploadPartCopy,
  CompleteMultipartUpload: handleCompleteMultipartUpload,
  AbortMultipartUpload: handleAbortMultipartUpload,
  ListParts: handleListParts,
};
