// The admin API's OpenAPI document is the contract the operator codes against: every route the
// server serves is in it, every path and method in it is served, and it never offers a DELETE.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { parse } from 'yaml';
import { adminRoutes } from '../../agent/admin/admin-routes.ts';
import { repositoryRoot } from '../support/agent-process.ts';

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
}

const document = parse(
  readFileSync(path.join(repositoryRoot, 'agent/admin/openapi.yaml'), 'utf8'),
) as OpenApiDocument;
const httpMethods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

test('openapi: the document is OpenAPI 3.1 and lists exactly the routes the admin server serves', (t) => {
  t.regex(document.openapi, /^3\.1\./);
  const documented = Object.entries(document.paths)
    .flatMap(([route, item]) =>
      Object.keys(item)
        .filter((method) => httpMethods.includes(method))
        .map((method) => `${method.toUpperCase()} ${route}`),
    )
    .sort();
  const served = adminRoutes.map((route) => `${route.method} ${route.path}`).sort();
  t.deepEqual(documented, served);
});

test("openapi: no route deletes anything (a locked version is out of the admin API's reach)", (t) => {
  for (const item of Object.values(document.paths)) {
    t.false('delete' in item);
    t.false('post' in item);
  }
  t.false(adminRoutes.some((route) => /objects|versions/.test(route.path)));
});

test('openapi: every path parameter of a route is declared', (t) => {
  for (const [route, item] of Object.entries(document.paths)) {
    const names = [...route.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
    const declared = JSON.stringify(item);
    for (const name of names) {
      t.true(
        declared.includes(`"name":"${name}"`) || declared.includes('#/components/parameters/TenantId'),
        `${route} ${name}`,
      );
    }
  }
});
