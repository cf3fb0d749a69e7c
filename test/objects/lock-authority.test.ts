import { DatabaseSync } from 'node:sqlite';
import test from 'ava';
import { isObjectError } from '../../agent/objects/errors.ts';
import { bucketIdOf } from '../../agent/objects/records.ts';
import { bodyOf, openHarness, readText, storeKinds, tenant } from './helpers.ts';

for (const kind of storeKinds) {
  test(`lock authority (${kind} store): an index edited to drop a retention does not release the version`, async (t) => {
    const harness = await openHarness(t, kind);
    const { layer } = harness;
    await layer.buckets.create({ name: 'vault', ownerTenantId: tenant, objectLockEnabled: true });
    const version = await layer.objects.put({
      bucket: bucketIdOf(tenant, 'vault'),
      key: 'block',
      body: bodyOf('immutable'),
      retention: { mode: 'COMPLIANCE', retainUntilMs: harness.clock.now() + 86_400_000 },
    });
    // Someone with access to the disk rewrites the cached record in the SQLite index.
    const database = new DatabaseSync(harness.indexPath);
    const row = database
      .prepare('SELECT record FROM versions WHERE version_id = ?')
      .get(version.versionId) as {
      record: string;
    };
    const edited = { ...JSON.parse(row.record), retention: null, legalHold: false };
    database
      .prepare('UPDATE versions SET record = ? WHERE version_id = ?')
      .run(JSON.stringify(edited), version.versionId);
    database.close();
    t.is(
      layer.objects.head({ bucket: bucketIdOf(tenant, 'vault'), key: 'block', versionId: version.versionId })
        .retention,
      null,
    );
    const error = await t.throwsAsync(
      layer.objects.delete({
        bucket: bucketIdOf(tenant, 'vault'),
        key: 'block',
        versionId: version.versionId,
        bypassGovernanceRetention: true,
      }),
    );
    t.true(isObjectError(error, 'AccessDenied'));
    const got = await layer.objects.get({
      bucket: bucketIdOf(tenant, 'vault'),
      key: 'block',
      versionId: version.versionId,
    });
    t.is(await readText(got.body), 'immutable');
  });
}
