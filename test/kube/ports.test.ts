// The ports the test servers (sshd, etcd, kube-apiserver, rolled-out agents) are started on.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import {
  claimPort,
  ephemeralRange,
  isAddressInUse,
  portsOutside,
  reservePort,
  sweepDeadClaims,
} from '../support/ports.ts';

test('ephemeralRange reads the kernel file, and falls back to Linux default on nonsense', (t) => {
  t.deepEqual(ephemeralRange('32768\t60999\n'), [32_768, 60_999]);
  t.deepEqual(ephemeralRange('1024 65535'), [1024, 65_535]);
  t.deepEqual(ephemeralRange('garbage'), [32_768, 60_999]);
  t.deepEqual(ephemeralRange('60000 30000'), [32_768, 60_999]);
});

test('portsOutside: the runs from 10000 up that the ephemeral range leaves', (t) => {
  t.deepEqual(portsOutside([32_768, 60_999]), [
    [10_000, 32_767],
    [61_000, 65_535],
  ]);
  t.deepEqual(portsOutside([1024, 65_535]), []);
  t.deepEqual(portsOutside([1024, 40_000]), [[40_001, 65_535]]);
  t.deepEqual(portsOutside([50_000, 65_535]), [[10_000, 49_999]]);
});

test('reservePort: free ports outside the ephemeral range, never the same one twice, each claimed', async (t) => {
  const [low, high] = ephemeralRange();
  const ports = new Set<number>();
  for (let index = 0; index < 50; index += 1) {
    const port = await reservePort();
    t.false(ports.has(port), `port ${port} handed out twice`);
    ports.add(port);
    if (portsOutside([low, high]).length > 0) t.true(port < low || port > high, `${port} in ${low}-${high}`);
    const claim = path.join(os.tmpdir(), 'coffre-test-ports', String(port));
    t.true(existsSync(claim));
    t.is(readFileSync(claim, 'utf8'), String(process.pid));
  }
  // Free for the server it is meant for.
  const [first] = ports;
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(first, '127.0.0.1', resolve);
  });
  await new Promise((resolve) => server.close(resolve));
});

test('isAddressInUse recognises what etcd, kube-apiserver and sshd print', (t) => {
  t.true(isAddressInUse('etcdmain: listen tcp 127.0.0.1:27851: bind: address already in use'));
  t.true(isAddressInUse('Bind to port 2222 on 127.0.0.1 failed: Address already in use.'));
  t.false(isAddressInUse('etcdmain: member has already been bootstrapped'));
});

test('claimPort: a claim held by a live process is refused, one whose process is gone is taken over', (t) => {
  const directory = path.join(os.tmpdir(), 'coffre-test-ports');
  mkdirSync(directory, { recursive: true });
  // Ports above 65535 are never handed out by reservePort, so these claims meet no other worker's.
  const held = 70_001 + (process.pid % 1000) * 2;
  const abandoned = held + 1;
  // The parent (ava) outlives this worker; a PID above the kernel's pid_max is never alive.
  writeFileSync(path.join(directory, String(held)), String(process.ppid));
  const deadPid = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8')) + 1;
  writeFileSync(path.join(directory, String(abandoned)), String(deadPid));
  t.teardown(() => rmSync(path.join(directory, String(held)), { force: true }));
  t.false(claimPort(held));
  t.is(readFileSync(path.join(directory, String(held)), 'utf8'), String(process.ppid));
  t.true(claimPort(abandoned));
  t.is(readFileSync(path.join(directory, String(abandoned)), 'utf8'), String(process.pid));
  // A claim with no PID in it (not one claimPort writes) is left alone rather than taken over.
  const unreadable = held + 2000;
  writeFileSync(path.join(directory, String(unreadable)), '');
  t.teardown(() => rmSync(path.join(directory, String(unreadable)), { force: true }));
  t.false(claimPort(unreadable));
});

test('sweepDeadClaims (run by the first reservePort of each process) removes the claims of processes that are gone', (t) => {
  // Port numbers above 65535 are never reserved, so these claims meet no other worker's.
  const directory = path.join(os.tmpdir(), 'coffre-test-ports');
  mkdirSync(directory, { recursive: true });
  const deadPid = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8')) + 1;
  const leftover = path.join(directory, String(75_001 + (process.pid % 1000)));
  writeFileSync(leftover, String(deadPid));
  sweepDeadClaims();
  t.false(existsSync(leftover), 'the claim of a dead process is still there');
  const live = path.join(directory, String(76_001 + (process.pid % 1000)));
  writeFileSync(live, String(process.ppid));
  t.teardown(() => rmSync(live, { force: true }));
  sweepDeadClaims();
  t.true(existsSync(live), 'the claim of a live process was swept');
});
