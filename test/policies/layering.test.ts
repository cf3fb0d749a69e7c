import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';

const root = path.resolve(import.meta.dirname, '../..');

function importsOf(directory: string): { file: string; specifier: string }[] {
  return readdirSync(path.join(root, directory))
    .filter((file) => /\.(ts|js)$/.test(file))
    .flatMap((file) => {
      const source = readFileSync(path.join(root, directory, file), 'utf8');
      return [...source.matchAll(/^import\s[^;]*?from\s+'([^']+)'/gms)].map((match) => ({
        file: `${directory}/${file}`,
        specifier: match[1],
      }));
    });
}

test('layering: stacks never import the policy pack', (t) => {
  const upward = importsOf('stacks').filter(({ specifier }) => specifier.includes('policies'));
  t.deepEqual(upward, []);
});

test('layering: the policy pack imports only the pure modules of stacks, never the Pulumi program', (t) => {
  const fromStacks = importsOf('policies').filter(({ specifier }) => specifier.startsWith('../stacks/'));
  t.true(fromStacks.length > 0);
  const pure = new Set(['../stacks/region-config.ts', '../stacks/ovh-resource-types.ts']);
  t.deepEqual(
    fromStacks.filter(({ specifier }) => !pure.has(specifier)),
    [],
  );
});

test('layering: the pure modules of stacks load neither Pulumi nor the OVHcloud SDK', (t) => {
  const pureFiles = [
    'region-config.ts',
    'region-validation.ts',
    'replica-sets.ts',
    'host-layout.ts',
    'ovh-resource-types.ts',
  ];
  const heavy = importsOf('stacks').filter(
    ({ file, specifier }) => pureFiles.includes(path.basename(file)) && /@pulumi|@ovhcloud/.test(specifier),
  );
  t.deepEqual(heavy, []);
});
