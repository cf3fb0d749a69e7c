// Master key rotation: `COFFRE_MASTER_KEYS="NEW,OLD" node scripts/rotate-master-key.ts --data DIR`.
// Every tenant key in DIR/tenant-keys is rewrapped under the first (new) master key; objects and
// their data keys are untouched. Afterwards the old key can be dropped from COFFRE_MASTER_KEYS. An
// agent running meanwhile keeps working: it holds the tenant keys themselves, which do not change,
// and its next start needs only the new master key.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadLocalKeyProvider } from '../agent/crypto/key-provider.ts';
import { TenantKeyring } from '../agent/crypto/tenant-keyring.ts';
import { LocalDrive } from '../agent/disk/index.ts';

const { values } = parseArgs({ options: { data: { type: 'string' } } });
if (values.data === undefined) {
  console.error('usage: COFFRE_MASTER_KEYS="NEW,OLD" node scripts/rotate-master-key.ts --data DIR');
  process.exit(2);
}
const provider = await loadLocalKeyProvider({ environment: process.env });
if (provider === null) {
  console.error('rotate-master-key: set COFFRE_MASTER_KEYS (or COFFRE_MASTER_KEY_FILE), the new key first');
  process.exit(2);
}
const keyring = new TenantKeyring({ provider, drive: new LocalDrive(path.resolve(values.data)) });
const report = await keyring.rewrapAll();
console.log(
  `rotate-master-key: ${report.rewrappedKeyCount} tenant keys of ${report.tenantCount} tenants now under ${provider.currentKeyId}`,
);
