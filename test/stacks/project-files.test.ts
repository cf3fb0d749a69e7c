import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import test from 'ava';
import { parse } from 'yaml';
import { regionConfigFromObject, validateRegionConfig } from '../../stacks/region-validation.ts';
import { installOvhMocks, resolved } from './pulumi-mocks.ts';

const root = path.resolve(import.meta.dirname, '../..');
const project = parse(readFileSync(path.join(root, 'Pulumi.yaml'), 'utf8')) as {
  name: string;
  runtime: { name: string };
  main: string;
  stackConfigDir: string;
};
const configDirectory = path.join(root, project.stackConfigDir);
const stackFiles = readdirSync(configDirectory).filter((file) => /^Pulumi\..+\.yaml$/.test(file));

function stackRegion(file: string): unknown {
  const stack = parse(readFileSync(path.join(configDirectory, file), 'utf8')) as {
    config: Record<string, unknown>;
  };
  return stack.config[`${project.name}:region`];
}

test('Pulumi.yaml: a Node.js project named coffre whose main program and stack configurations exist', (t) => {
  t.is(project.name, 'coffre');
  t.is(project.runtime.name, 'nodejs');
  t.true(existsSync(path.join(root, project.main)));
  t.true(stackFiles.length >= 2);
});

for (const file of stackFiles) {
  test(`stack configuration ${file}: a valid region named after its stack`, (t) => {
    const config = regionConfigFromObject(stackRegion(file));
    t.is(`Pulumi.${config.name}.yaml`, file);
    t.deepEqual(validateRegionConfig(config), []);
  });
}

test('CLI entry: stacks/main.ts reads coffre:region from the stack configuration and exports the outputs', async (t) => {
  installOvhMocks();
  pulumi.runtime.setAllConfig({ 'coffre:region': JSON.stringify(stackRegion('Pulumi.fr-north.yaml')) });
  const { default: main } = await import('../../stacks/main.ts');
  const outputs = await main();
  const hosts = await resolved(outputs.hosts);
  t.deepEqual(
    hosts.map((host) => host.name),
    ['gra-1', 'gra-2', 'rbx-1', 'rbx-2', 'sbg-1', 'sbg-2'],
  );
  t.is(await resolved(outputs.s3Endpoint), 'https://s3.fr-north.coffre.example.fr');
  t.is(await resolved(outputs.vrackServiceName), 'pn-123456');
  for (const set of await resolved(outputs.replicaSets)) t.is(set.datacenters.length, 3);
});
