// A Lease store in memory with the API server's optimistic concurrency: a replace with a stale
// resourceVersion is a conflict (409), as is a create of an existing Lease.
import type { LeaseRecord, LeaseStore } from '../../operator/runtime/leader-election.ts';

export class MemoryLeaseStore implements LeaseStore {
  record: LeaseRecord | null = null;
  #version = 0;
  failing = false;
  /** While set, every call hangs (a request the API server never answers). */
  hanging = false;

  async get() {
    if (this.hanging) await new Promise(() => {});
    if (this.failing) throw new Error('API server unreachable');
    return this.record === null ? null : { ...this.record };
  }

  async create(record: LeaseRecord) {
    if (this.failing) throw new Error('API server unreachable');
    if (this.record !== null) throw Object.assign(new Error('AlreadyExists'), { code: 409 });
    this.record = { ...record, resourceVersion: String(++this.#version) };
    return { ...this.record };
  }

  async replace(record: LeaseRecord) {
    if (this.failing) throw new Error('API server unreachable');
    if (this.record === null || record.resourceVersion !== this.record.resourceVersion) {
      throw Object.assign(new Error('Conflict'), { code: 409 });
    }
    this.record = { ...record, resourceVersion: String(++this.#version) };
    return { ...this.record };
  }
}
