import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { LocalDrive } from '../../agent/disk/index.ts';
import {
  Identities,
  IdentityError,
  newAccessKeyId,
  newSecretAccessKey,
} from '../../agent/objects/identities.ts';
import { temporaryDirectory } from '../support/temporary-directory.ts';

function freshDirectory(t: ExecutionContext): string {
  return temporaryDirectory(t, 'coffre-identities');
}

test('identities: the first start creates one tenant with a full key; a restart finds the same', async (t) => {
  const directory = freshDirectory(t);
  const first = await (await Identities.open(new LocalDrive(directory))).ensureFirstTenant(null);
  t.true(first.created);
  t.is(first.key.role, 'full');
  t.regex(first.key.accessKeyId, /^CF[A-Z2-7]{18}$/);
  t.is(first.key.secretAccessKey.length, 40);
  const reopened = await Identities.open(new LocalDrive(directory));
  const again = await reopened.ensureFirstTenant(null);
  t.false(again.created);
  t.deepEqual(again.key, first.key);
  t.is(reopened.lookupSecret(first.key.accessKeyId), first.key.secretAccessKey);
});

test('identities: a key chosen through the environment is used, and its secret can be rotated', async (t) => {
  const directory = freshDirectory(t);
  const identities = await Identities.open(new LocalDrive(directory));
  const chosen = { accessKeyId: 'AKIDEXAMPLE0000001', secretAccessKey: 'first-secret-0123456789' };
  await identities.ensureFirstTenant(chosen);
  t.is(identities.lookupSecret(chosen.accessKeyId), chosen.secretAccessKey);
  await identities.ensureFirstTenant({ ...chosen, secretAccessKey: 'second-secret-0123456789' });
  const reopened = await Identities.open(new LocalDrive(directory));
  t.is(reopened.lookupSecret(chosen.accessKeyId), 'second-secret-0123456789');
  t.is(reopened.tenants().length, 1);
});

test('identities: unknown and disabled keys have no secret and resolve to nobody', async (t) => {
  const identities = await Identities.open(new LocalDrive(freshDirectory(t)));
  await identities.putTenant({ id: 'acme', displayName: 'ACME' });
  await identities.putKey({
    accessKeyId: 'ACMEDISABLED000001',
    secretAccessKey: 'disabled-secret-0000',
    tenantId: 'acme',
    role: 'read-only',
    enabled: false,
  });
  t.is(identities.lookupSecret('ACMEDISABLED000001'), null);
  t.is(identities.resolve('ACMEDISABLED000001'), null);
  t.is(identities.lookupSecret('NOSUCHKEY000000001'), null);
});

test('identities: a key cannot move to another tenant, nor belong to a tenant that does not exist', async (t) => {
  const identities = await Identities.open(new LocalDrive(freshDirectory(t)));
  await identities.putTenant({ id: 'acme', displayName: 'ACME' });
  await identities.putTenant({ id: 'globex', displayName: 'Globex' });
  const key = {
    accessKeyId: 'ACMEKEY00000000001',
    secretAccessKey: 'acme-secret-000000',
    role: 'full' as const,
  };
  await identities.putKey({ ...key, tenantId: 'acme' });
  await t.throwsAsync(identities.putKey({ ...key, tenantId: 'globex' }), { instanceOf: IdentityError });
  await t.throwsAsync(identities.putKey({ ...key, accessKeyId: 'OTHERKEY0000000001', tenantId: 'nobody' }), {
    instanceOf: IdentityError,
  });
  t.is(identities.resolve('ACMEKEY00000000001')?.tenant.id, 'acme');
});

test('identities: the file starts with its magic and version, and a file of another version is refused', async (t) => {
  const directory = freshDirectory(t);
  await (await Identities.open(new LocalDrive(directory))).ensureFirstTenant(null);
  const file = path.join(directory, 'identities.json');
  const parsed = JSON.parse(readFileSync(file, 'utf8'));
  t.is(parsed.magic, 'coffre.identities');
  t.is(parsed.version, 1);
  t.truthy(statSync(file).size > 0);
  const drive = new LocalDrive(directory);
  await drive.writeFileAtomic('identities.json', Buffer.from(JSON.stringify({ ...parsed, version: 2 })));
  await t.throwsAsync(Identities.open(drive), { instanceOf: IdentityError });
});

test('identities: generated keys are unique and shaped like AWS keys', (t) => {
  const ids = new Set(Array.from({ length: 1000 }, () => newAccessKeyId()));
  t.is(ids.size, 1000);
  t.regex(newSecretAccessKey(), /^[A-Za-z0-9]{40}$/);
});

test("identities: a tenant id is refused when empty or containing '/', the separator of bucket ids (<tenant>/<name>)", async (t) => {
  const identities = await Identities.open(new LocalDrive(freshDirectory(t)));
  for (const id of ['', 'acme/evil', '/']) {
    await t.throwsAsync(identities.putTenant({ id, displayName: 'Bad' }), { name: 'IdentityError' }, id);
  }
  t.deepEqual(identities.tenants(), []);
});
