// `npm run bench [suite ...]` runs the named benchmark suites (all of them by default) and prints
// their figures. Each suite is a module in this folder exporting `run(): Promise<void>`.
const suites = [
  'erasure',
  'store',
  'checksums',
  'listing',
  'object-writes',
  'crypto',
  'lock',
  's3-objects',
  's3',
  'usage-ledger',
  'object-cpu',
  'burst-rss',
  'put-gc',
];

const wanted = process.argv.slice(2).filter((argument) => !argument.startsWith('-'));
for (const name of wanted.length > 0 ? wanted : suites) {
  if (!suites.includes(name)) {
    console.error(`unknown bench suite "${name}"; known: ${suites.join(', ')}`);
    process.exit(2);
  }
  const suite = (await import(`./${name}.ts`)) as { run: () => Promise<void> };
  console.log(`\n## ${name}`);
  await suite.run();
}
