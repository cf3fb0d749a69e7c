// The operator runtime: everything a controller needs around its pure reconcile function.
// See README.md beside this file for how to add a controller.
export { type BackoffSettings, backoffDelayMs, defaultBackoff } from './backoff.ts';
export { type Clock, sleep, systemClock, type Timer } from './clock.ts';
export {
  type Condition,
  type ConditionInput,
  type ConditionStatus,
  findCondition,
  setCondition,
} from './conditions.ts';
export { isTerminalError, kubernetesStatus, TerminalError } from './errors.ts';
export { hasFinalizer, isBeingDeleted, withFinalizer, withoutFinalizer } from './finalizers.ts';
export { type ChangeListener, type ChangeVerb, type InformerOptions, ResourceInformer } from './informer.ts';
export {
  type CustomResource,
  type EventInput,
  type EventRecorder,
  eventRecorder,
  leaseStore,
  loadKubeConfig,
  type ResourceClient,
  type ResourceKind,
  resourceClient,
  resourcePath,
  type SecretReader,
  type SecretValue,
  secretReader,
} from './kube.ts';
export {
  defaultLeaseDurationMs,
  defaultRenewDeadlineMs,
  defaultRetryPeriodMs,
  type LeaderElectionOptions,
  LeaderElector,
  type LeaseRecord,
  type LeaseStore,
} from './leader-election.ts';
export {
  type ControllerSpec,
  Manager,
  type ManagerOptions,
  type SourceInformer,
  type WatchSource,
  whenChanged,
} from './manager.ts';
export {
  maximumQueuedKeys,
  type ReconcileKey,
  type ReconcileResult,
  WorkQueue,
  type WorkQueueOptions,
} from './work-queue.ts';
