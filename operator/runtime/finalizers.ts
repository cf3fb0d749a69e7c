// Finalizers (https://kubernetes.io/docs/concepts/overview/working-with-objects/finalizers/): a
// resource carrying one is only marked for deletion (metadata.deletionTimestamp) until the
// controller that owns the finalizer has done its clean-up and removed it.
import type { CustomResource } from './kube.ts';

export function hasFinalizer(resource: CustomResource, finalizer: string): boolean {
  return (resource.metadata.finalizers ?? []).includes(finalizer);
}

export function isBeingDeleted(resource: CustomResource): boolean {
  return resource.metadata.deletionTimestamp !== undefined && resource.metadata.deletionTimestamp !== null;
}

export function withFinalizer(resource: CustomResource, finalizer: string): string[] {
  const list = resource.metadata.finalizers ?? [];
  return list.includes(finalizer) ? [...list] : [...list, finalizer];
}

export function withoutFinalizer(resource: CustomResource, finalizer: string): string[] {
  return (resource.metadata.finalizers ?? []).filter((name) => name !== finalizer);
}
