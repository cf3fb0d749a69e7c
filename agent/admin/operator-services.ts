// What the agent runs for the operator beside the S3 endpoint: the quotas file, the per-tenant
// audit logs, the Prometheus metrics and (with --admin-port) the authenticated admin listener.
// One call from the agent's start (run.ts) wires them; one call closes them after the S3 listener.
import path from 'node:path';
import type { AgentConfig } from '../config.ts';
import { LocalDrive } from '../disk/index.ts';
import type { RunningServer } from '../http/server.ts';
import { AgentMetrics } from '../metrics/agent-metrics.ts';
import { AuditLog } from '../objects/audit/audit-log.ts';
import type { Identities } from '../objects/identities.ts';
import type { ObjectLayer } from '../objects/object-layer.ts';
import { Quotas } from '../objects/quotas.ts';
import { restoreUsagePeaks, saveUsagePeaks } from '../objects/usage-peaks-file.ts';
import type { ErasureSet } from '../shards/index.ts';
import { listenAdmin } from './admin-server.ts';
import { AdminAuthenticator } from './admin-signature.ts';

/** How often the daily peaks are copied beside the index (see usage-peaks-file.ts). */
export const usagePeaksCopyIntervalMs = 10 * 60 * 1000;

export interface OperatorServices {
  quotas: Quotas;
  audit: AuditLog;
  metrics: AgentMetrics;
  admin: RunningServer | null;
  /**
   * Spread into createS3Handler's options: the audit log and the request metrics. Spelled out here
   * rather than picked from the S3 layer's types, so that admin does not import its sibling s3.
   */
  s3HandlerOptions: { audit: AuditLog; metrics: AgentMetrics; onAuditFailure: (error: unknown) => void };
  /** Lines for the agent's start-up banner. */
  startupLines: string[];
  /** Stops the admin listener and checkpoints the audit logs (after the S3 listener closed). */
  close(): Promise<void>;
}

export async function openOperatorServices(options: {
  config: AgentConfig;
  layer: ObjectLayer;
  store: ErasureSet;
  identities: Identities;
  clock?: () => number;
}): Promise<OperatorServices> {
  const { config, layer, store, identities } = options;
  const clock = options.clock ?? Date.now;
  const ownDrive = new LocalDrive(config.dataDirectory);
  const quotas = await Quotas.open(ownDrive);
  layer.admission.useQuotas(quotas);
  await restoreUsagePeaks(ownDrive, layer.usage);
  const copyPeaks = () =>
    saveUsagePeaks(ownDrive, layer.usage).catch((error: unknown) =>
      console.error('usage peaks not copied:', error),
    );
  const peaksTimer = setInterval(copyPeaks, usagePeaksCopyIntervalMs);
  peaksTimer.unref();
  const audit = new AuditLog({ directory: path.join(config.dataDirectory, 'audit') });
  const driveStates = () => store.driveStates();
  const storeCounters = () => ({ ...store.metrics });
  const metrics = new AgentMetrics({ usage: layer.usage, driveStates, storeCounters });
  let admin: RunningServer | null = null;
  if (config.admin) {
    admin = await listenAdmin({
      host: config.admin.host,
      port: config.admin.port,
      tls: config.tls ?? undefined,
      authenticator: new AdminAuthenticator(config.admin.key, clock),
      metricsBearerToken: config.admin.metricsBearerToken,
      layer,
      identities,
      quotas,
      audit,
      metrics,
      driveStates,
      storeCounters,
      clock,
    });
  }
  const onAuditFailure = (error: unknown) => console.error('audit record not written:', error);
  return {
    quotas,
    audit,
    metrics,
    admin,
    s3HandlerOptions: { audit, metrics, onAuditFailure },
    startupLines: [
      `  audit logs:    ${path.join(config.dataDirectory, 'audit')} (verify: npm run audit:verify -- FILE)`,
      admin ? `  admin API:     ${admin.url} (signed requests; Prometheus at ${admin.url}/metrics)` : '',
    ].filter((line) => line !== ''),
    async close() {
      clearInterval(peaksTimer);
      await admin?.close();
      await audit.close();
      await copyPeaks();
    },
  };
}
