/** The bundle builder's operating errors: a repository that cannot produce a bundle as it stands. */
export type BundleErrorCode =
  | 'MissingDependency'
  | 'MissingNodeBinary'
  | 'InvalidManifest'
  | 'SourcesChanging';

export class BundleError extends Error {
  readonly code: BundleErrorCode;

  constructor(code: BundleErrorCode, message: string) {
    super(message);
    this.name = 'BundleError';
    this.code = code;
  }
}
