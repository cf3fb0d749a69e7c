// Who the request being served is for, carried through the object layer's async calls without
// widening every signature: the protocol layer runs each request inside callerScope.run(), and the
// commit admission (quotas, write-only keys) reads it under the key lock. Outside any request (an
// index rebuild, a test calling the layer directly) there is no caller and no role restriction.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { KeyRole } from './identities.ts';

export interface ScopedCaller {
  tenantId: string;
  accessKeyId: string;
  role: KeyRole;
}

export const callerScope = new AsyncLocalStorage<ScopedCaller>();

export function currentCaller(): ScopedCaller | undefined {
  return callerScope.getStore();
}
