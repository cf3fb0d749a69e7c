import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { RolloutError } from '../../operator/rollout/errors.ts';
import { SshSession, sshFingerprintSha256 } from '../../operator/rollout/ssh.ts';
import { generateClientKey, startSshServer, type TestSshServer } from './sshd.ts';

let directory: string;
let server: TestSshServer;
let privateKey: string;

test.before(async () => {
  directory = mkdtempSync(path.join(os.tmpdir(), 'coffre-ssh-'));
  const key = generateClientKey(path.join(directory, 'client'));
  privateKey = key.privateKey;
  server = await startSshServer(path.join(directory, 'sshd'), [key.publicKeyLine]);
});

test.after.always(async () => {
  await server?.stop();
  rmSync(directory, { recursive: true, force: true });
});

const target = (hostKeySha256: string) => ({
  name: 'host-a',
  address: server.address,
  port: server.port,
  username: 'root',
  hostKeySha256,
});

test('fingerprint: the SHA-256 of the key blob, as ssh-keygen -l -E sha256 prints it', (t) => {
  const publicKeyLine = readFileSync(path.join(directory, 'sshd', 'host_ed25519.pub'), 'utf8');
  const blob = Buffer.from(publicKeyLine.split(' ')[1], 'base64');
  t.is(sshFingerprintSha256(blob), server.hostKeySha256);
});

test.serial('pinned host key: commands run and files upload over the verified connection', async (t) => {
  const session = await SshSession.connect(target(server.hostKeySha256), { privateKey });
  try {
    t.is((await session.run('echo hello; echo oops >&2')).trim(), 'hello');
    const failed = await session.exec('exit 3');
    t.is(failed.exitCode, 3);
    const error = await t.throwsAsync(session.run('false'), { instanceOf: RolloutError });
    t.is(error?.code, 'CommandFailed');
    const local = path.join(directory, 'upload.bin');
    writeFileSync(local, Buffer.alloc(3 * 1024 * 1024 + 17, 7));
    const remote = path.join(directory, 'uploaded.bin');
    await session.upload(local, remote);
    t.deepEqual(readFileSync(remote), readFileSync(local));
  } finally {
    session.close();
  }
});

test.serial(
  'host key mismatch: the connection is refused before the client authenticates or runs anything',
  async (t) => {
    const marker = path.join(directory, 'must-not-exist');
    const logLengthBefore = server.logs().length;
    const wrong = 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    const error = await t.throwsAsync(SshSession.connect(target(wrong), { privateKey }), {
      instanceOf: RolloutError,
    });
    t.is(error?.code, 'HostKeyMismatch');
    t.true(error?.message.includes(server.hostKeySha256));
    t.throws(() => readFileSync(marker));
    // sshd logs every public key offered ("Accepted publickey" / "Failed publickey"): none was.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const logged = server.logs().slice(logLengthBefore);
    t.false(/publickey/i.test(logged), logged);
    t.false(/Accepted/.test(logged), logged);
  },
);
