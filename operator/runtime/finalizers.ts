// Finalizers (https://kubernetes.io/docs/concepts/overview/working-with-objects/finalizers/): a
// resource carrying one is only marked for deletion (metadata.deletionTimestamp) until the
// controller that owns the finalizer has done its clean-up and removed it.

/** Any Kubernetes object: only its metadata is read. */
interface WithMetadata {
  metadata: { finalizers?: string[]; deletionTimestamp?: unknown };
}

export function hasFinalizer(resource: WithMetadata, finalizer: string): boolean {
  return (resource.metadata.finalizers ?? []).includes(finalizer);
}

export function isBeingDeleted(resource: WithMetadata): boolean {
  return resource.metadata.deletionTimestamp !== undefined && resource.metadata.deletionTimestamp !== null;
}

export function withFinalizer(resource: WithMetadata, finalizer: string): string[] {
  const list = resource.metadata.finalizers ?? [];
  return list.includes(finalizer) ? [...list] : [...list, finalizer];
}

export function withoutFinalizer(resource: WithMetadata, finalizer: string): string[] {
  return (resource.metadata.finalizers ?? []).filter((name) => name !== finalizer);
}
