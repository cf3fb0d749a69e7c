// `node operator/bundle/main.ts [--cache-directory DIR]`: builds the agent bundle of this checkout
// (or finds it in the cache) and prints its manifest as JSON, for a release pipeline or by hand.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildAgentBundle } from './build.ts';

const { values } = parseArgs({ options: { 'cache-directory': { type: 'string' } }, strict: true });
const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const started = Date.now();
const bundle = await buildAgentBundle({ repositoryRoot, cacheDirectory: values['cache-directory'] });
console.log(JSON.stringify({ ...bundle, buildMs: Date.now() - started }, null, 2));
