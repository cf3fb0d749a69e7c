// The agent's Prometheus metrics, served as /metrics on the admin listener. prom-client (the
// de facto Node client, maintained, exact text exposition format) keeps the registry: one per
// agent, not the library's global one, so tests and several agents in a process never mix.
// Request figures are recorded by the S3 pipeline as requests finish; usage, drive and store
// figures are read from their owners when Prometheus scrapes, so they are never stale.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { UsageFigures, UsageLedger } from '../objects/usage-ledger.ts';

/** What the metrics read at each scrape (each optional: a test may give only some). */
export interface MetricSources {
  usage?: UsageLedger;
  /** The erasure set's drives (agent/shards ErasureSet.driveStates). */
  driveStates?: () => Promise<
    { driveIndex: number; description: string; state: string; freeBytes?: number; totalBytes?: number }[]
  >;
  /** The erasure set's counters (agent/shards StoreMetrics). */
  storeCounters?: () => Readonly<Record<string, number>>;
}

export interface RequestObservation {
  operation: string;
  status: number;
  durationSeconds: number;
  bytesIn: number;
  bytesOut: number;
}

/** Request latency buckets, seconds: small metadata calls to multi-gigabyte streams. */
const latencyBucketsSeconds = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

const usageClasses: [string, (figures: UsageFigures) => number][] = [
  ['current', (figures) => figures.currentBytes],
  ['noncurrent', (figures) => figures.noncurrentBytes],
  ['incomplete_multipart', (figures) => figures.incompletePartBytes],
  ['retained', (figures) => figures.retainedBytes],
];

const countClasses: [string, (figures: UsageFigures) => number][] = [
  ['current', (figures) => figures.currentCount],
  ['noncurrent', (figures) => figures.noncurrentCount],
  ['delete_marker', (figures) => figures.deleteMarkerCount],
  ['incomplete_multipart_upload', (figures) => figures.incompleteUploadCount],
  ['retained', (figures) => figures.retainedCount],
];

export class AgentMetrics {
  readonly registry = new Registry();
  readonly #requests: Counter<'operation' | 'status'>;
  readonly #latency: Histogram<'operation'>;
  readonly #bytesIn: Counter<'operation'>;
  readonly #bytesOut: Counter<'operation'>;
  readonly #auditFailures: Counter;

  constructor(sources: MetricSources = {}) {
    const registers = [this.registry];
    this.#requests = new Counter({
      name: 'coffre_s3_requests_total',
      help: 'S3 requests answered, by operation and HTTP status.',
      labelNames: ['operation', 'status'],
      registers,
    });
    this.#latency = new Histogram({
      name: 'coffre_s3_request_duration_seconds',
      help: 'Time from request arrival to the end of the response, by operation.',
      labelNames: ['operation'],
      buckets: latencyBucketsSeconds,
      registers,
    });
    this.#bytesIn = new Counter({
      name: 'coffre_s3_received_bytes_total',
      help: 'Request body bytes received, by operation.',
      labelNames: ['operation'],
      registers,
    });
    this.#bytesOut = new Counter({
      name: 'coffre_s3_sent_bytes_total',
      help: 'Response body bytes sent, by operation.',
      labelNames: ['operation'],
      registers,
    });
    this.#auditFailures = new Counter({
      name: 'coffre_audit_append_failures_total',
      help: 'Audit records that could not be written (each is also logged).',
      registers,
    });
    if (sources.usage) this.#registerUsage(sources.usage);
    if (sources.driveStates) this.#registerDrives(sources.driveStates);
    if (sources.storeCounters) this.#registerStore(sources.storeCounters);
  }

  observeRequest(observation: RequestObservation): void {
    const { operation } = observation;
    this.#requests.inc({ operation, status: String(observation.status) });
    this.#latency.observe({ operation }, observation.durationSeconds);
    if (observation.bytesIn > 0) this.#bytesIn.inc({ operation }, observation.bytesIn);
    if (observation.bytesOut > 0) this.#bytesOut.inc({ operation }, observation.bytesOut);
  }

  countAuditFailure(): void {
    this.#auditFailures.inc();
  }

  /** The Prometheus text exposition (version 0.0.4). */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  #registerUsage(usage: UsageLedger): void {
    const registers = [this.registry];
    const storedBytes = new Gauge({
      name: 'coffre_tenant_stored_bytes',
      help: 'Bytes stored by the tenant (current + noncurrent versions + incomplete multipart parts): the billed quantity.',
      labelNames: ['tenant'],
      registers,
    });
    const bucketBytes = new Gauge({
      name: 'coffre_bucket_bytes',
      help: 'Logical bytes of the bucket by class (retained overlaps current and noncurrent).',
      labelNames: ['tenant', 'bucket', 'class'],
      registers,
    });
    const bucketCounts = new Gauge({
      name: 'coffre_bucket_objects',
      help: 'Versions, delete markers and incomplete uploads of the bucket, by class.',
      labelNames: ['tenant', 'bucket', 'class'],
      registers,
    });
    const collect = () => {
      storedBytes.reset();
      bucketBytes.reset();
      bucketCounts.reset();
      for (const tenant of usage.tenantIds()) {
        const figures = usage.usageOf(tenant);
        storedBytes.set({ tenant }, figures.storedBytes);
        for (const bucket of figures.buckets) {
          for (const [name, value] of usageClasses)
            bucketBytes.set({ tenant, bucket: bucket.bucket, class: name }, value(bucket));
          for (const [name, value] of countClasses)
            bucketCounts.set({ tenant, bucket: bucket.bucket, class: name }, value(bucket));
        }
      }
    };
    // One collect fills all three; prom-client calls each gauge's collect in turn.
    Object.assign(storedBytes, { collect });
  }

  #registerDrives(driveStates: NonNullable<MetricSources['driveStates']>): void {
    const registers = [this.registry];
    const online = new Gauge({
      name: 'coffre_drive_online',
      help: '1 when the drive answers, 0 otherwise.',
      labelNames: ['drive', 'state'],
      registers,
    });
    const free = new Gauge({
      name: 'coffre_drive_free_bytes',
      help: 'Free bytes on the drive.',
      labelNames: ['drive'],
      registers,
    });
    const total = new Gauge({
      name: 'coffre_drive_total_bytes',
      help: 'Size of the drive.',
      labelNames: ['drive'],
      registers,
    });
    Object.assign(online, {
      async collect() {
        online.reset();
        free.reset();
        total.reset();
        for (const drive of await driveStates()) {
          const name = drive.description;
          online.set({ drive: name, state: drive.state }, drive.state === 'online' ? 1 : 0);
          if (drive.freeBytes !== undefined) free.set({ drive: name }, drive.freeBytes);
          if (drive.totalBytes !== undefined) total.set({ drive: name }, drive.totalBytes);
        }
      },
    });
  }

  #registerStore(storeCounters: NonNullable<MetricSources['storeCounters']>): void {
    const events = new Gauge({
      name: 'coffre_store_events',
      help: 'Erasure-set counters since the agent started: corruptionsDetected, shardsHealed, healFailures, degradedReads...',
      labelNames: ['event'],
      registers: [this.registry],
      collect() {
        for (const [event, value] of Object.entries(storeCounters())) events.set({ event }, value);
      },
    });
  }
}
