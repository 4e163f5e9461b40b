// A real OpenSSH sshd on a free loopback port, with a temp host key and a
// temp client key in authorized_keys. For transport tests only.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort } from '../../src/lib/appliance/free-port';

export interface TestSshd {
  port: number;
  clientKeyPath: string;
  hostKeyFingerprint: string;
  knownHostsLine: string;
  stop(): Promise<void>;
}

export function sshdAvailable(): string | undefined {
  if (!existsSync('/usr/sbin/sshd')) return '/usr/sbin/sshd is missing (apt-get install openssh-server)';
  if (process.getuid?.() !== 0) return 'sshd needs root here (privilege separation)';
  return undefined;
}

async function waitForPort(port: number, deadlineMs: number, child: ChildProcess, log: () => string): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`sshd exited early: ${log()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`sshd did not listen on ${port} within ${deadlineMs} ms: ${log()}`);
}

export interface TestSshdOptions {
  /** sshd's ForceCommand: runs instead of every command a client asks for (it sees $SSH_ORIGINAL_COMMAND). */
  forceCommand?: string;
}

export async function startTestSshd(options: TestSshdOptions = {}): Promise<TestSshd> {
  const dir = mkdtempSync(join(tmpdir(), 'ibft-lab-sshd-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_ed25519')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'client_ed25519')]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_ed25519.pub')));
  const port = await freeLoopbackPort();
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_ed25519')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PidFile none',
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      ...(options.forceCommand ? [`ForceCommand ${options.forceCommand}`] : []),
      '',
    ].join('\n'),
  );
  // sshd insists on its privilege separation folder.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (chunk) => (log += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, 10_000, child, () => log);
  } catch (error) {
    await stop();
    throw error;
  }
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir, 'host_ed25519.pub')]).toString().split(/\s+/)[1];
  const pub = readFileSync(join(dir, 'host_ed25519.pub'), 'utf8').trim().split(/\s+/);
  return {
    port,
    clientKeyPath: join(dir, 'client_ed25519'),
    hostKeyFingerprint: fingerprint,
    knownHostsLine: `[127.0.0.1]:${port} ${pub[0]} ${pub[1]}`,
    stop,
  };
}
