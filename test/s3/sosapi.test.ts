import test from 'ava';
import { XMLParser } from 'fast-xml-parser';
import {
  capacityDocument,
  capacityFigures,
  isVeeamUserAgent,
  sosapiCapacityKey,
  sosapiObject,
  sosapiSystemKey,
  sosapiTarget,
  systemDocument,
} from '../../agent/s3/operations/sosapi.ts';

const parser = new XMLParser({ parseTagValue: false });

test('SOSAPI system.xml: SystemInfo with protocol version 1.0, model, CapacityInfo only, no API endpoints', (t) => {
  const text = systemDocument({ modelName: 'Coffre 0.1.0' });
  t.true(text.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<SystemInfo>'));
  const parsed = parser.parse(text) as { SystemInfo: Record<string, unknown> };
  t.deepEqual(Object.keys(parsed.SystemInfo), [
    'ProtocolVersion',
    'ModelName',
    'ProtocolCapabilities',
    'SystemRecommendations',
  ]);
  t.is(parsed.SystemInfo.ProtocolVersion, '"1.0"');
  t.is(parsed.SystemInfo.ModelName, '"Coffre 0.1.0"');
  t.deepEqual(parsed.SystemInfo.ProtocolCapabilities, {
    CapacityInfo: 'true',
    UploadSessions: 'false',
    IAMSTS: 'false',
  });
  t.false(text.includes('APIEndpoints'));
});

test('SOSAPI capacity.xml: CapacityInfo with Capacity, Available and Used in bytes', (t) => {
  const figures = capacityFigures({
    quotaBytes: 10 ** 12,
    usedBytes: 3 * 10 ** 11,
    storageTotalBytes: 0,
    storageFreeBytes: 0,
  });
  const parsed = parser.parse(capacityDocument(figures)) as { CapacityInfo: Record<string, string> };
  t.deepEqual(parsed.CapacityInfo, {
    Capacity: '1000000000000',
    Available: '700000000000',
    Used: '300000000000',
  });
});

test('SOSAPI capacity: usage over a lowered quota reports 0 available; without a quota, the drives', (t) => {
  t.deepEqual(
    capacityFigures({ quotaBytes: 100, usedBytes: 150, storageTotalBytes: 0, storageFreeBytes: 0 }),
    {
      capacityBytes: 100,
      availableBytes: 0,
      usedBytes: 150,
    },
  );
  t.deepEqual(
    capacityFigures({ quotaBytes: null, usedBytes: 5, storageTotalBytes: 1000, storageFreeBytes: 400 }),
    {
      capacityBytes: 1000,
      availableBytes: 400,
      usedBytes: 5,
    },
  );
});

test('SOSAPI routing: GET and HEAD of the two keys target them; other keys and version ids do not', (t) => {
  t.deepEqual(sosapiTarget({ operation: 'GetObject', key: sosapiSystemKey }), {
    kind: 'object',
    name: 'system.xml',
  });
  t.deepEqual(sosapiTarget({ operation: 'HeadObject', key: sosapiCapacityKey }), {
    kind: 'object',
    name: 'capacity.xml',
  });
  t.deepEqual(sosapiTarget({ operation: 'GetObject', key: sosapiSystemKey, versionId: 'null' }), {
    kind: 'object',
    name: 'system.xml',
  });
  t.is(sosapiTarget({ operation: 'GetObject', key: sosapiSystemKey, versionId: '0001' }), null);
  t.is(
    sosapiTarget({ operation: 'GetObject', key: '.system-d26a9498-cb7c-4a87-a44a-8ae204f5ba6c/other.xml' }),
    null,
  );
  t.is(sosapiTarget({ operation: 'HeadObject', key: 'system.xml' }), null);
});

test('SOSAPI routing: listings under the folder show the virtual keys; a whole-bucket listing does not', (t) => {
  t.deepEqual(
    sosapiTarget({ operation: 'ListObjectsV2', prefix: '.system-d26a9498-cb7c-4a87-a44a-8ae204f5ba6c/' }),
    {
      kind: 'listing',
      keys: [sosapiCapacityKey, sosapiSystemKey],
    },
  );
  t.deepEqual(sosapiTarget({ operation: 'ListObjects', prefix: `${sosapiSystemKey.slice(0, -4)}` }), {
    kind: 'listing',
    keys: [sosapiSystemKey],
  });
  t.deepEqual(sosapiTarget({ operation: 'ListObjectVersions', prefix: '.sys' }), {
    kind: 'listing',
    keys: [sosapiCapacityKey, sosapiSystemKey],
  });
  t.is(sosapiTarget({ operation: 'ListObjectsV2' }), null);
  t.is(sosapiTarget({ operation: 'ListObjectsV2', prefix: '' }), null);
  t.is(sosapiTarget({ operation: 'ListObjectsV2', prefix: 'backups/' }), null);
});

test('SOSAPI objects: the ETag is the MD5 of the served bytes; Veeam is recognised by its User-Agent', (t) => {
  const object = sosapiObject(
    'capacity.xml',
    capacityDocument({ capacityBytes: 1, availableBytes: 1, usedBytes: 0 }),
  );
  t.is(object.key, sosapiCapacityKey);
  t.regex(object.etag, /^[0-9a-f]{32}$/);
  t.true(isVeeamUserAgent('APN/1.0 Veeam/1.0 Backup/12.3'));
  t.false(isVeeamUserAgent('aws-cli/1.33'));
  t.false(isVeeamUserAgent(undefined));
});
