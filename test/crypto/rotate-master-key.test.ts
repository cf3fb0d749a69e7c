import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import test from 'ava';
import { LocalKeyProvider } from '../../agent/crypto/key-provider.ts';
import { ObjectEncryption } from '../../agent/crypto/object-encryption.ts';
import { TenantKeyring } from '../../agent/crypto/tenant-keyring.ts';
import { repositoryRoot } from '../support/agent-process.ts';
import { collect, piecesOf, temporaryDrive } from './helpers.ts';

const run = promisify(execFile);

test('rotate-master-key script: tenant keys move to the new master key; objects read with the new key alone', async (t) => {
  const drive = await temporaryDrive(t);
  const oldMaster = randomBytes(32);
  const newMaster = randomBytes(32);
  const before = new ObjectEncryption({
    keyring: new TenantKeyring({ provider: new LocalKeyProvider([oldMaster]), drive }),
  });
  const plaintext = randomBytes(5000);
  const sealed = await before.seal({ tenantId: 'acme' });
  const ciphertext = await collect(sealed.encrypt(piecesOf(plaintext, 999)));
  const { stdout } = await run(
    process.execPath,
    ['scripts/rotate-master-key.ts', '--data', drive.description],
    {
      cwd: repositoryRoot,
      env: {
        ...process.env,
        COFFRE_MASTER_KEYS: `${newMaster.toString('base64')},${oldMaster.toString('base64')}`,
      },
    },
  );
  t.regex(stdout, /1 tenant keys of 1 tenants/);
  const after = new ObjectEncryption({
    keyring: new TenantKeyring({ provider: new LocalKeyProvider([newMaster]), drive }),
  });
  const opened = await after.open(sealed.envelope);
  t.deepEqual(
    await collect(opened.decrypt(piecesOf(ciphertext, 4096), opened.plan(null, plaintext.length))),
    plaintext,
  );
});
