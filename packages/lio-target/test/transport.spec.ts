// Real OpenSSH sshd on loopback, real ssh2 client; the local transport runs in
// a real Node child process (Jest's CJS runtime cannot load ESM-only execa).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeEndpoint } from '../src/lib/appliance/endpoint';
import { openTarget } from '../src/lib/connect-target';
import { connectSsh, HostKeyRejected, SshRefused, type Transport } from '../src/lib/transport';
import { sshdAvailable, startTestSshd, type TestSshd } from './support/sshd';

jest.setTimeout(60_000);

const awkwardTokens = ['a b', "it's", '"double"', '$(echo injected)', '`echo injected`', 'semi;colon', 'star*', '', 'back\\slash', 'new\nline'];

const skipReason = sshdAvailable();
if (skipReason) console.log(`ssh transport tests skipped: ${skipReason}`);
const describeSsh = skipReason ? describe.skip : describe;

describeSsh('ssh transport against a real sshd on loopback', () => {
  let sshd: TestSshd;
  let transport: Transport | undefined;
  beforeAll(async () => {
    sshd = await startTestSshd();
  });
  afterAll(async () => {
    await transport?.close();
    await sshd?.stop();
  });

  it('runs commands with C locale and a dumb terminal, and passes stdin', async () => {
    transport = await connectSsh({ host: '127.0.0.1', port: sshd.port, user: 'root', privateKeyPath: sshd.clientKeyPath, hostKeyFingerprint: sshd.hostKeyFingerprint });
    const env = await transport.run(['sh', '-c', 'echo "$LC_ALL $TERM"; exit 3']);
    expect(env).toEqual({ code: 3, stdout: 'C dumb\n', stderr: '' });
    const cat = await transport.run(['cat'], { stdin: 'from stdin\n' });
    expect(cat.stdout).toBe('from stdin\n');
  });

  it('delivers tokens with spaces, quotes, $(), backticks and newlines intact', async () => {
    const result = await transport!.run(['printf', '<%s>\\n', ...awkwardTokens]);
    expect(result.stdout).toBe(awkwardTokens.map((t) => `<${t}>\n`).join(''));
  });

  it('reads and writes files, and a missing file reads as undefined', async () => {
    const path = `/tmp/ibft-lab-transport-${process.pid}/sub/file.txt`;
    try {
      await transport!.writeFile(path, 'hello\nworld\n');
      expect(await transport!.readFile(path)).toBe('hello\nworld\n');
      expect(await transport!.readFile(`${path}.missing`)).toBeUndefined();
    } finally {
      await transport!.run(['rm', '-rf', `/tmp/ibft-lab-transport-${process.pid}`]);
    }
  });

  it('accepts a matching known_hosts line', async () => {
    const t = await connectSsh({ host: '127.0.0.1', port: sshd.port, privateKeyPath: sshd.clientKeyPath, knownHosts: sshd.knownHostsLine });
    expect((await t.run(['true'])).code).toBe(0);
    await t.close();
  });

  it('refuses a wrong pinned host key', async () => {
    await expect(
      connectSsh({ host: '127.0.0.1', port: sshd.port, privateKeyPath: sshd.clientKeyPath, hostKeyFingerprint: `SHA256:${'A'.repeat(43)}` }),
    ).rejects.toBeInstanceOf(HostKeyRejected);
  });

  it('a key the machine does not accept, and a key file that is missing, are refusals (SshRefused) naming the key', async () => {
    const other = mkdtempSync(join(tmpdir(), 'ibft-lab-other-key-'));
    try {
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(other, 'id')]);
      const wrongKey = connectSsh({ host: '127.0.0.1', port: sshd.port, privateKeyPath: join(other, 'id'), hostKeyFingerprint: sshd.hostKeyFingerprint });
      await expect(wrongKey).rejects.toBeInstanceOf(SshRefused);
      await expect(wrongKey).rejects.toThrow(`All configured authentication methods failed: the machine does not accept the key ${join(other, 'id')}`);
      const missing = connectSsh({ host: '127.0.0.1', port: sshd.port, privateKeyPath: join(other, 'gone'), hostKeyFingerprint: sshd.hostKeyFingerprint });
      await expect(missing).rejects.toBeInstanceOf(SshRefused);
      await expect(missing).rejects.toThrow(`cannot read the private key ${join(other, 'gone')} (ENOENT)`);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('setup-target waiting for an appliance whose key was replaced fails at once, naming the key and its cache entry', async () => {
    const entry = mkdtempSync(join(tmpdir(), 'ibft-lab-replaced-key-'));
    try {
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(entry, 'client_ed25519')]);
      writeEndpoint(join(entry, 'endpoint.json'), {
        host: '127.0.0.1',
        sshPort: sshd.port,
        iscsiPort: 3260,
        user: 'root',
        privateKeyPath: join(entry, 'client_ed25519'),
        hostKeyFingerprint: sshd.hostKeyFingerprint,
        guestPortal: { ip: '10.0.2.2', port: 3260 },
        pid: process.pid,
        startedAt: new Date().toISOString(),
      });
      const started = Date.now();
      const opened = openTarget({ transport: 'appliance', endpointFile: join(entry, 'endpoint.json'), waitTimeoutSeconds: 300 }, 'unused');
      await expect(opened).rejects.toThrow(
        new RegExp(`does not accept the key ${join(entry, 'client_ed25519')}.*cache entry ${entry}; if it was changed by hand, remove that folder`),
      );
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      rmSync(entry, { recursive: true, force: true });
    }
  });

  it('refuses to connect without any host key policy', async () => {
    await expect(connectSsh({ host: '127.0.0.1', port: sshd.port, privateKeyPath: sshd.clientKeyPath })).rejects.toThrow(
      /hostKeyFingerprint: is required/,
    );
  });
});

describe('local transport (execa, in a real Node child process)', () => {
  it('runs argv without a shell and delivers awkward tokens intact', () => {
    const root = join(__dirname, '..', '..', '..');
    const script = `
      const { localTransport } = require('./packages/lio-target/src/lib/transport');
      (async () => {
        const t = localTransport();
        const r = await t.run(['printf', '<%s>\\\\n', ...JSON.parse(process.argv[1])]);
        const env = await t.run(['sh', '-c', 'echo "$LC_ALL $TERM"']);
        const stdin = await t.run(['cat'], { stdin: 'piped' });
        process.stdout.write(JSON.stringify({ r, env, stdin, missing: await t.readFile('/nonexistent/x') ?? null }));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const out = execFileSync(process.execPath, ['-r', './tools/register-ts.js', '-e', script, JSON.stringify(awkwardTokens)], { cwd: root }).toString();
    const parsed = JSON.parse(out);
    expect(parsed.r.stdout).toBe(awkwardTokens.map((t) => `<${t}>\n`).join(''));
    expect(parsed.env.stdout).toBe('C dumb\n');
    expect(parsed.stdin.stdout).toBe('piped');
    expect(parsed.missing).toBeNull();
  });
});
