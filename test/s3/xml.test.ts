import test from 'ava';
import { S3Error } from '../../agent/s3/errors.ts';
import { checkTagEntries, checkTags } from '../../agent/s3/operations/object-attributes.ts';
import {
  parseCompleteMultipartUpload,
  parseCorsConfiguration,
  parseCreateBucketConfiguration,
  parseDelete,
  parseLegalHold,
  parseObjectLockConfiguration,
  parseRetention,
  parseTagging,
  parseVersioningConfiguration,
  readXmlBody,
  xmlDocument,
} from '../../agent/s3/xml.ts';

function code(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof S3Error) return error.code;
    throw error;
  }
  return 'no error';
}

test('response document: declaration, S3 namespace, order kept, text escaped, dates with milliseconds', (t) => {
  const document = xmlDocument('ListAllMyBucketsResult', [
    [
      'Owner',
      [
        ['ID', 'tenant-1'],
        ['DisplayName', 'A & B <Backups>'],
      ],
    ],
    [
      'Buckets',
      [
        [
          'Bucket',
          [
            ['Name', 'b1'],
            ['CreationDate', new Date(Date.UTC(2026, 10, 29))],
          ],
        ],
      ],
    ],
    ['Skipped', undefined],
    ['IsTruncated', false],
    ['MaxKeys', 1000],
  ]);
  t.is(
    document,
    '<?xml version="1.0" encoding="UTF-8"?>\n<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>tenant-1</ID><DisplayName>A &amp; B &lt;Backups&gt;</DisplayName></Owner><Buckets><Bucket><Name>b1</Name><CreationDate>2026-11-29T00:00:00.000Z</CreationDate></Bucket></Buckets><IsTruncated>false</IsTruncated><MaxKeys>1000</MaxKeys></ListAllMyBucketsResult>',
  );
});

test('error document: S3Error.toXml has Code, Message, extra elements, Resource and RequestId, escaped', (t) => {
  const error = new S3Error('NoSuchKey', { elements: { Key: 'a<b>&"c"' } });
  t.is(
    error.toXml({ resource: '/bucket/a<b>', requestId: 'R1' }),
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>a&lt;b&gt;&amp;&quot;c&quot;</Key><Resource>/bucket/a&lt;b&gt;</Resource><RequestId>R1</RequestId></Error>',
  );
});

test('CompleteMultipartUpload as the SDK sends it (namespace, quoted ETags, checksums): parsed', (t) => {
  const body = `<?xml version="1.0" encoding="UTF-8"?>
<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Part><ETag>"a54357aff0632cce46d942af68356b38"</ETag><PartNumber>1</PartNumber><ChecksumCRC32>y/Q5Jg==</ChecksumCRC32></Part>
  <Part><ETag>"0c78aef83f66abc1fa1e8477f296d394"</ETag><PartNumber>3</PartNumber></Part>
</CompleteMultipartUpload>`;
  t.deepEqual(parseCompleteMultipartUpload(body), [
    { partNumber: 1, etag: '"a54357aff0632cce46d942af68356b38"', checksums: { ChecksumCRC32: 'y/Q5Jg==' } },
    { partNumber: 3, etag: '"0c78aef83f66abc1fa1e8477f296d394"', checksums: {} },
  ]);
});

test('CompleteMultipartUpload with parts out of order or repeated: InvalidPartOrder', (t) => {
  const part = (n: number) => `<Part><ETag>"x"</ETag><PartNumber>${n}</PartNumber></Part>`;
  t.is(
    code(() =>
      parseCompleteMultipartUpload(`<CompleteMultipartUpload>${part(2)}${part(1)}</CompleteMultipartUpload>`),
    ),
    'InvalidPartOrder',
  );
  t.is(
    code(() =>
      parseCompleteMultipartUpload(`<CompleteMultipartUpload>${part(2)}${part(2)}</CompleteMultipartUpload>`),
    ),
    'InvalidPartOrder',
  );
  t.is(
    code(() =>
      parseCompleteMultipartUpload(`<CompleteMultipartUpload>${part(10001)}</CompleteMultipartUpload>`),
    ),
    'InvalidArgument',
  );
  t.is(
    code(() => parseCompleteMultipartUpload('<CompleteMultipartUpload></CompleteMultipartUpload>')),
    'MalformedXML',
  );
});

test('malformed XML, wrong root, DOCTYPE, empty body: MalformedXML / MissingRequestBodyError', (t) => {
  t.is(
    code(() => parseDelete('<Delete><Object><Key>a</Key></Object>')),
    'MalformedXML',
  );
  t.is(
    code(() => parseDelete('<Tagging><TagSet/></Tagging>')),
    'MalformedXML',
  );
  t.is(
    code(() => parseDelete('not xml at all')),
    'MalformedXML',
  );
  t.is(
    code(() =>
      parseDelete('<!DOCTYPE x [<!ENTITY a "aaaa">]><Delete><Object><Key>&a;</Key></Object></Delete>'),
    ),
    'MalformedXML',
  );
  t.is(
    code(() => parseDelete('')),
    'MissingRequestBodyError',
  );
});

test('Delete with Quiet, version ids and keys needing escapes: parsed with the keys decoded', (t) => {
  const body =
    '<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet><Object><Key>a&amp;b &lt;c&gt; &#233;t&#xE9;</Key></Object><Object><Key>k2</Key><VersionId>v1</VersionId></Object></Delete>';
  t.deepEqual(parseDelete(body), {
    quiet: true,
    objects: [
      { key: 'a&b <c> été', versionId: undefined },
      { key: 'k2', versionId: 'v1' },
    ],
  });
});

test('Delete of keys with leading and trailing spaces, pretty-printed: the keys kept exactly', (t) => {
  const body = `<Delete>
  <Object>
    <Key>  spaced key  </Key>
  </Object>
</Delete>`;
  t.deepEqual(parseDelete(body).objects, [{ key: '  spaced key  ', versionId: undefined }]);
});

test('Delete with 1001 objects: MalformedXML, as S3 caps DeleteObjects at 1000 keys', (t) => {
  const objects = '<Object><Key>k</Key></Object>'.repeat(1001);
  t.is(
    code(() => parseDelete(`<Delete>${objects}</Delete>`)),
    'MalformedXML',
  );
  t.is(parseDelete(`<Delete>${'<Object><Key>k</Key></Object>'.repeat(1000)}</Delete>`).objects.length, 1000);
});

test('CreateBucketConfiguration: optional, LocationConstraint read', (t) => {
  t.deepEqual(parseCreateBucketConfiguration(''), {});
  t.deepEqual(
    parseCreateBucketConfiguration(
      '<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>eu-west-par</LocationConstraint></CreateBucketConfiguration>',
    ),
    { locationConstraint: 'eu-west-par' },
  );
});

test('Tagging: tags read; 11 object tags: BadRequest; duplicate keys, long keys: InvalidTag', (t) => {
  const tags = (count: number, key = (index: number) => `k${index}`) =>
    `<Tagging><TagSet>${Array.from({ length: count }, (_, index) => `<Tag><Key>${key(index)}</Key><Value>v</Value></Tag>`).join('')}</TagSet></Tagging>`;
  // Parsed by xml.ts, checked by checkTags (objects) or checkTagEntries (buckets, which count after).
  const entries = (body: string) => parseTagging(body).map((tag) => [tag.key, tag.value] as const);
  t.deepEqual(parseTagging(tags(2)), [
    { key: 'k0', value: 'v' },
    { key: 'k1', value: 'v' },
  ]);
  t.deepEqual(parseTagging('<Tagging><TagSet/></Tagging>'), []);
  t.is(
    code(() => checkTags(entries(tags(11)))),
    'BadRequest',
  );
  t.is(Object.keys(checkTagEntries(entries(tags(11)))).length, 11);
  t.is(
    code(() => checkTags(entries(tags(2, () => 'same')))),
    'InvalidTag',
  );
  t.is(
    code(() => checkTags(entries(tags(1, () => 'x'.repeat(129))))),
    'InvalidTag',
  );
  // Characters are code points: 128 emoji (256 UTF-16 units) are a valid key, 129 are not.
  t.deepEqual(Object.keys(checkTags(entries(tags(1, () => '🔒'.repeat(128))))), ['🔒'.repeat(128)]);
  t.is(
    code(() => checkTags(entries(tags(1, () => '🔒'.repeat(129))))),
    'InvalidTag',
  );
});

test('CORSConfiguration: rules read; unsupported method: InvalidRequest', (t) => {
  const body =
    '<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule></CORSConfiguration>';
  t.deepEqual(parseCorsConfiguration(body), [
    {
      id: undefined,
      allowedMethods: ['GET', 'PUT'],
      allowedOrigins: ['*'],
      allowedHeaders: ['*'],
      exposeHeaders: ['ETag'],
      maxAgeSeconds: 3000,
    },
  ]);
  t.is(
    code(() => parseCorsConfiguration(body.replace('PUT', 'PATCH'))),
    'InvalidRequest',
  );
  t.is(
    code(() => parseCorsConfiguration('<CORSConfiguration></CORSConfiguration>')),
    'MalformedXML',
  );
});

test('CORSConfiguration: an origin or header with more than one wildcard is InvalidRequest, in S3 words', (t) => {
  const rule = (origin: string, header: string) =>
    `<CORSConfiguration><CORSRule><AllowedOrigin>${origin}</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedHeader>${header}</AllowedHeader></CORSRule></CORSConfiguration>`;
  t.deepEqual(parseCorsConfiguration(rule('http://*.a.com', 'x-amz-*'))[0].allowedOrigins, [
    'http://*.a.com',
  ]);
  const origin = t.throws<S3Error>(() => parseCorsConfiguration(rule('http://*.a.*.com', '*')));
  t.is(origin?.code, 'InvalidRequest');
  t.is(origin?.message, 'AllowedOrigin "http://*.a.*.com" can not have more than one wildcard.');
  const header = t.throws<S3Error>(() => parseCorsConfiguration(rule('*', 'x-*-*')));
  t.is(header?.message, 'AllowedHeader "x-*-*" can not have more than one wildcard.');
});

test('VersioningConfiguration: Enabled/Suspended; anything else: MalformedXML', (t) => {
  t.deepEqual(
    parseVersioningConfiguration(
      '<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>',
    ),
    {
      status: 'Enabled',
      mfaDelete: undefined,
    },
  );
  t.is(
    code(() =>
      parseVersioningConfiguration('<VersioningConfiguration><Status>On</Status></VersioningConfiguration>'),
    ),
    'MalformedXML',
  );
});

test('ObjectLockConfiguration: default retention with Days or Years, not both, positive', (t) => {
  const config = (retention: string) =>
    `<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention>${retention}</DefaultRetention></Rule></ObjectLockConfiguration>`;
  t.deepEqual(parseObjectLockConfiguration(config('<Mode>COMPLIANCE</Mode><Days>30</Days>')), {
    enabled: true,
    defaultRetention: { mode: 'COMPLIANCE', days: 30, years: undefined },
  });
  t.deepEqual(
    parseObjectLockConfiguration(
      '<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>',
    ),
    {
      enabled: true,
    },
  );
  t.is(
    code(() => parseObjectLockConfiguration(config('<Mode>COMPLIANCE</Mode><Days>1</Days><Years>1</Years>'))),
    'MalformedXML',
  );
  t.is(
    code(() => parseObjectLockConfiguration(config('<Mode>COMPLIANCE</Mode><Days>0</Days>'))),
    'InvalidRetentionPeriod',
  );
  t.is(
    code(() => parseObjectLockConfiguration(config('<Mode>FOREVER</Mode><Days>1</Days>'))),
    'MalformedXML',
  );
});

test('Retention and LegalHold: parsed; bad date or status: MalformedXML', (t) => {
  t.deepEqual(
    parseRetention(
      '<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>2030-01-01T00:00:00.000Z</RetainUntilDate></Retention>',
    ),
    {
      mode: 'GOVERNANCE',
      retainUntilDate: new Date(Date.UTC(2030, 0, 1)),
    },
  );
  t.is(
    code(() =>
      parseRetention(
        '<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>tomorrow</RetainUntilDate></Retention>',
      ),
    ),
    'MalformedXML',
  );
  // Empty: the retention is removed (null); only one of the two: MalformedXML.
  t.is(parseRetention('<Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>'), null);
  t.is(
    code(() => parseRetention('<Retention><Mode>GOVERNANCE</Mode></Retention>')),
    'MalformedXML',
  );
  t.is(
    code(() =>
      parseRetention('<Retention><RetainUntilDate>2030-01-01T00:00:00Z</RetainUntilDate></Retention>'),
    ),
    'MalformedXML',
  );
  t.deepEqual(
    parseLegalHold(
      '<LegalHold xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>ON</Status></LegalHold>',
    ),
    { status: 'ON' },
  );
  t.is(
    code(() => parseLegalHold('<LegalHold><Status>on</Status></LegalHold>')),
    'MalformedXML',
  );
});

test('XML body over the bound: MaxMessageLengthExceeded before reading on', async (t) => {
  async function* endless() {
    for (;;) yield new Uint8Array(1024);
  }
  const error = await t.throwsAsync(readXmlBody(endless(), 10_000), { instanceOf: S3Error });
  t.is(error.code, 'MaxMessageLengthExceeded');
});
