// What the agent sets up for immutability and encryption at rest before it opens the object layer:
// the retention clock (Object Lock is judged against a time that never goes back, even if the host
// clock does) and the key hierarchy (master key -> tenant keys -> a data key per object version).
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  type KeyProvider,
  LocalKeyProvider,
  loadLocalKeyProvider,
  parseMasterKeys,
} from './crypto/key-provider.ts';
import { ObjectEncryption } from './crypto/object-encryption.ts';
import { TenantKeyring } from './crypto/tenant-keyring.ts';
import { LocalDrive } from './disk/index.ts';
import { RetentionClock } from './objects/retention-clock.ts';

export interface Protection {
  retentionClock: RetentionClock;
  encryption: ObjectEncryption;
  keyring: TenantKeyring;
  /** Where the master key came from, for the start banner. */
  masterKeySource: string;
  close(): Promise<void>;
}

/**
 * The master key provider: COFFRE_MASTER_KEYS or COFFRE_MASTER_KEY_FILE on a provisioned host. An
 * agent started alone with neither keeps a generated key in DATA/master.key (mode 0600) and says
 * so in its banner: that key then sits beside the data it protects.
 */
async function masterKeyProvider(
  dataDirectory: string,
  environment: NodeJS.ProcessEnv,
): Promise<{ provider: KeyProvider; source: string }> {
  const configured = await loadLocalKeyProvider({ environment });
  if (configured !== null) return { provider: configured, source: 'from the environment' };
  const file = path.join(dataDirectory, 'master.key');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    text = `${randomBytes(32).toString('base64')}\n`;
    await writeFile(file, text, { mode: 0o600, flag: 'wx' });
  }
  return {
    provider: new LocalKeyProvider(parseMasterKeys(text)),
    source: `${file} (agent alone: set COFFRE_MASTER_KEYS in production)`,
  };
}

/**
 * `keyDirectories`: where else the tenant keys are kept (the drives): losing them would lose every
 * object, so each drive holds a copy, as well as the data directory.
 */
export async function openProtection(
  dataDirectory: string,
  environment: NodeJS.ProcessEnv,
  keyDirectories: string[] = [],
): Promise<Protection> {
  const drive = new LocalDrive(dataDirectory);
  const retentionClock = await RetentionClock.open({ drive });
  retentionClock.start();
  const masterKey = await masterKeyProvider(dataDirectory, environment);
  const keyring = new TenantKeyring({
    provider: masterKey.provider,
    drive: [drive, ...keyDirectories.map((directory) => new LocalDrive(directory))],
  });
  return {
    retentionClock,
    encryption: new ObjectEncryption({ keyring }),
    keyring,
    masterKeySource: masterKey.source,
    close: () => retentionClock.close(),
  };
}
