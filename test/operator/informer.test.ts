// The informer's restarts, against a small HTTP server on 127.0.0.1 that speaks the list and watch
// protocol of the API server for one resource and fails on demand: a failed list is retried after
// a backoff, a watch the server closes is reopened from the last resourceVersion, and a watch that
// breaks with an error is started again. (The informer against a real kube-apiserver is covered
// by operator-e2e.test.ts.)
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as k8s from '@kubernetes/client-node';
import test from 'ava';
import { ResourceInformer } from '../../operator/runtime/informer.ts';
import { waitFor } from './kube-fixtures.ts';

interface Thing {
  apiVersion: string;
  kind: string;
  metadata: { name: string; resourceVersion: string };
}

const path = '/apis/example.test/v1/things';

/** A list + watch server whose behaviour each request consults. */
async function startFakeServer() {
  const things = new Map<string, Thing>();
  let version = 1;
  const requests: string[] = [];
  const watchers = new Set<http.ServerResponse>();
  let failNextLists = 0;
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== path) {
      response.writeHead(404).end();
      return;
    }
    if (url.searchParams.get('watch') === 'true') {
      requests.push(`watch from ${url.searchParams.get('resourceVersion')}`);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.flushHeaders();
      watchers.add(response);
      response.on('close', () => watchers.delete(response));
      return;
    }
    requests.push('list');
    if (failNextLists > 0) {
      failNextLists -= 1;
      response.writeHead(500, { 'content-type': 'application/json' }).end('{"kind":"Status","code":500}');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        metadata: { resourceVersion: String(version) },
        items: [...things.values()],
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    failLists: (count: number) => {
      failNextLists = count;
    },
    add(name: string): void {
      version += 1;
      const thing = {
        apiVersion: 'example.test/v1',
        kind: 'Thing',
        metadata: { name, resourceVersion: String(version) },
      };
      things.set(name, thing);
      for (const watcher of watchers) watcher.write(`${JSON.stringify({ type: 'ADDED', object: thing })}\n`);
    },
    /** Ends every open watch normally, as the API server does when its watch timeout expires. */
    closeWatches(): void {
      for (const watcher of watchers) {
        watchers.delete(watcher);
        watcher.end();
      }
    },
    /** Breaks every open watch mid-stream, as a dropped connection would. */
    breakWatches(): void {
      for (const watcher of watchers) {
        watchers.delete(watcher);
        watcher.socket?.destroy(new Error('connection reset'));
      }
    },
    get openWatches() {
      return watchers.size;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const watcher of watchers) watcher.socket?.destroy();
        server.close(() => resolve());
      }),
  };
}

function informerFor(endpoint: string) {
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'fake', server: endpoint, skipTLSVerify: true }],
    users: [{ name: 'tester' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'tester' }],
    currentContext: 'fake',
  });
  const list = async (): Promise<k8s.KubernetesListObject<Thing>> => {
    const response = await fetch(`${endpoint}${path}`);
    if (response.status !== 200)
      throw Object.assign(new Error(`list failed with ${response.status}`), { code: response.status });
    return (await response.json()) as k8s.KubernetesListObject<Thing>;
  };
  const logged: string[] = [];
  const informer = new ResourceInformer<Thing>({
    kubeConfig,
    path,
    list,
    backoff: { baseDelayMs: 20, maximumDelayMs: 200 },
    log: (line) => logged.push(line),
  });
  return { informer, logged };
}

test('informer: a list that fails is retried with backoff, and the cache fills once it succeeds', async (t) => {
  const server = await startFakeServer();
  t.teardown(() => server.stop());
  server.add('first');
  server.failLists(2);
  const { informer, logged } = informerFor(server.endpoint);
  t.teardown(() => informer.stop());
  await informer.start();
  t.deepEqual(
    informer.list().map((thing) => thing.metadata.name),
    ['first'],
  );
  t.deepEqual(
    server.requests.filter((request) => request === 'list'),
    ['list', 'list', 'list'],
  );
  t.is(logged.filter((line) => line.includes('restarting')).length, 2);
});

test('informer: a watch closed by the server is reopened from the last resourceVersion, and later changes arrive', async (t) => {
  const server = await startFakeServer();
  t.teardown(() => server.stop());
  const { informer } = informerFor(server.endpoint);
  t.teardown(() => informer.stop());
  const added: string[] = [];
  informer.onChange((thing, verb) => added.push(`${verb} ${thing.metadata.name}`));
  await informer.start();
  await waitFor('the watch to open', async () => server.openWatches === 1);
  server.add('before-close');
  await waitFor('the first change', async () => informer.get('before-close'));
  server.closeWatches();
  await waitFor('the watch to reopen', async () => server.openWatches === 1);
  server.add('after-close');
  await waitFor('the change after the reopen', async () => informer.get('after-close'));
  t.deepEqual(added, ['add before-close', 'add after-close']);
  t.true(server.requests.includes('watch from 2'), server.requests.join(', '));
});

test('informer: a watch broken by a connection error is started again and the cache catches up', async (t) => {
  const server = await startFakeServer();
  t.teardown(() => server.stop());
  const { informer } = informerFor(server.endpoint);
  t.teardown(() => informer.stop());
  await informer.start();
  await waitFor('the watch to open', async () => server.openWatches === 1);
  server.breakWatches();
  await waitFor('the watch to reopen', async () => server.openWatches === 1);
  server.add('after-break');
  await waitFor('the change after the break', async () => informer.get('after-break'));
  t.truthy(informer.get('after-break'));
});

test('informer: after stop, nothing is requested any more', async (t) => {
  const server = await startFakeServer();
  t.teardown(() => server.stop());
  const { informer } = informerFor(server.endpoint);
  await informer.start();
  await waitFor('the watch to open', async () => server.openWatches === 1);
  await informer.stop();
  await waitFor('the watch to close', async () => server.openWatches === 0);
  const seen = server.requests.length;
  server.failLists(0);
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.is(server.requests.length, seen);
});
