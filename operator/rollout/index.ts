// The agent rollout's public surface: build a bundle with operator/bundle, then rolloutRegion.
export type { AdminCredentials, AgentSettings, AgentTls } from './agent-config.ts';
export { renderAgentConfig, writablePaths } from './agent-config.ts';
export type { Clock, HealthWait, HostContext, ObservedHost } from './deploy-host.ts';
export { observeHost, rollbackHost, systemClock, upgradeHost } from './deploy-host.ts';
export { RolloutError, type RolloutErrorCode } from './errors.ts';
export {
  type HealthCheck,
  type HealthResult,
  type HealthTarget,
  isS3XmlAnswer,
  s3HealthCheck,
} from './health.ts';
export {
  type HostLayout,
  hostLayout,
  PRODUCTION_CONFIG_DIRECTORY,
  PRODUCTION_INSTALL_ROOT,
} from './host-layout.ts';
export {
  type PlannerHost,
  type PlannerInput,
  type PlannerReplicaSet,
  planNextStep,
  type RolloutStep,
} from './planner.ts';
export { formatProgress, type RolloutCondition, type RolloutProgress, rolloutCondition } from './progress.ts';
export {
  type RegionRollout,
  type RolloutHost,
  type RolloutOptions,
  type RolloutResult,
  rolloutRegion,
} from './rollout.ts';
export { pidfileServiceManager, type ServiceManager, systemdServiceManager } from './service-manager.ts';
export { type SshCredentials, SshSession, type SshTarget, sshFingerprintSha256 } from './ssh.ts';
export { AGENT_UNIT_NAME, renderAgentUnit } from './systemd-unit.ts';
