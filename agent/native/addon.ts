// Loading the agent's optional N-API addons (build/*.node, built by scripts/build-native.ts): each
// loader (agent/erasure/kernels/isa-l.ts, agent/crypto/native-gcm.ts, agent/digest/native-md5.ts,
// agent/digest/crc32.ts, agent/disk/aligned-memory.ts) takes the addon only if it loads and
// exports what it needs, then runs its own check of the addon's answers.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * The addon at `path` when it loads and exports every function in `functions`; undefined when it
 * is not built, is not an addon for this Node, or lacks one of them (an addon of an older build).
 */
export function requireAddon<T>(path: string, functions: readonly string[]): T | undefined {
  let addon: Record<string, unknown>;
  try {
    addon = require(path) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  return functions.every((name) => typeof addon[name] === 'function') ? (addon as T) : undefined;
}
