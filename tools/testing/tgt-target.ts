// A real iSCSI target for tests that need one on the host: Debian's userspace
// `tgtd`, bound to a free loopback port, configured with `tgtadm`. The host
// kernel has no LIO (facts.md), so host-side tests use tgt; LIO is tested in
// the appliance VM. tgt's LUN 0 is its controller: disks start at LUN 1.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TgtTargetOptions {
  targetIqn: string;
  /** Sizes in MiB of the file-backed disks, mapped to LUN 1, 2, … */
  diskSizesMiB?: number[];
  /** Initiators allowed in; default: any. */
  initiatorIqns?: string[];
  chap?: { username: string; password: string };
  mutualChap?: { username: string; password: string };
}

export interface TgtTarget {
  /** Host loopback port of the portal; a guest on QEMU user networking reaches it as 10.0.2.2:<port>. */
  port: number;
  targetIqn: string;
  luns: number[];
  stop(): Promise<void>;
}

export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function freeControlPort(): number {
  for (;;) {
    const candidate = 1000 + Math.floor(Math.random() * 20000);
    if (!existsSync(`/var/run/tgtd/socket.${candidate}`)) return candidate;
  }
}

export function tgtAvailable(): boolean {
  try {
    require('node:child_process').execFileSync('tgtd', ['--version'], { stdio: 'ignore' });
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
}

export async function startTgtTarget(options: TgtTargetOptions): Promise<TgtTarget> {
  const port = await freeLoopbackPort();
  // tgtd's management socket is /var/run/tgtd/socket.<control port> (a small
  // number); a fresh one per target keeps parallel tests apart.
  const control = String(freeControlPort());
  const dir = mkdtempSync(join(tmpdir(), 'ibft-lab-tgt-'));
  const child: ChildProcess = spawn('tgtd', ['-f', '-C', control, '--iscsi', `portal=127.0.0.1:${port}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
    // tgtd leaves its management socket behind when signalled.
    for (const suffix of ['', '.lock']) rmSync(`/var/run/tgtd/socket.${control}${suffix}`, { force: true });
  };

  const tgtadm = async (...args: string[]) => {
    await run('tgtadm', ['-C', control, '--lld', 'iscsi', ...args]);
  };
  try {
    await waitForSocket(tgtadm, () => child.exitCode !== null, () => stderr);
    await tgtadm('--op', 'new', '--mode', 'target', '--tid', '1', '-T', options.targetIqn);
    const sizes = options.diskSizesMiB ?? [64];
    const luns: number[] = [];
    for (const [i, size] of sizes.entries()) {
      const file = join(dir, `lun${i + 1}.img`);
      writeFileSync(file, '');
      truncateSync(file, size * 1024 * 1024);
      await tgtadm('--op', 'new', '--mode', 'logicalunit', '--tid', '1', '--lun', String(i + 1), '-b', file);
      luns.push(i + 1);
    }
    for (const address of options.initiatorIqns ?? []) {
      await tgtadm('--op', 'bind', '--mode', 'target', '--tid', '1', '-Q', address);
    }
    if (!options.initiatorIqns?.length) {
      await tgtadm('--op', 'bind', '--mode', 'target', '--tid', '1', '-I', 'ALL');
    }
    if (options.chap) {
      await tgtadm('--op', 'new', '--mode', 'account', '--user', options.chap.username, '--password', options.chap.password);
      await tgtadm('--op', 'bind', '--mode', 'account', '--tid', '1', '--user', options.chap.username);
    }
    if (options.mutualChap) {
      const { username, password } = options.mutualChap;
      await tgtadm('--op', 'new', '--mode', 'account', '--user', username, '--password', password);
      await tgtadm('--op', 'bind', '--mode', 'account', '--tid', '1', '--user', username, '--outgoing');
    }
    return { port, targetIqn: options.targetIqn, luns, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function waitForSocket(
  tgtadm: (...args: string[]) => Promise<void>,
  died: () => boolean,
  stderr: () => string,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await tgtadm('--op', 'show', '--mode', 'sys');
      return;
    } catch (error) {
      if (died()) throw new Error(`tgtd exited: ${stderr().trim()}`);
      if (Date.now() > deadline) throw new Error(`tgtd did not answer within 10 s: ${String(error)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
