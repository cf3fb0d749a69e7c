import test from 'ava';

test('foundation: the tests run on Node.js 22 or newer with TypeScript type stripping', (t) => {
  const major = Number(process.versions.node.split('.')[0]);
  t.true(major >= 22, `node ${process.versions.node}`);
});
