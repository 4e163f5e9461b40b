// Builds the LIO appliance once per (package versions, kernel, init script):
// an initramfs from the Debian closure of targetcli-fb, rtslib, dropbear,
// dbus, kmod and busybox plus the cloud kernel's LIO and virtio modules, with
// a host key and a client key made at build time. No root needed: apt-get
// download + dpkg -x, and the cpio records uid/gid 0 (facts.md).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ensureCacheEntry } from '@ibft-lab/cache';
import {
  addKernelModules,
  buildInitramfs,
  downloadDebianPackages,
  ensureCloudKernel,
  extractDebs,
  type CloudKernel,
} from '@ibft-lab/qemu-runner';
import { sha256Fingerprint } from '../transport/host-key';
import { APPLIANCE_MODULES, INIT_SCRIPT } from './init-script';
import { LIO_AGENT_PATH, LIO_AGENT_SOURCE } from './lio-agent';

export const APPLIANCE_PACKAGES = [
  'targetcli-fb',
  'python3-rtslib-fb',
  'dropbear-bin',
  'dbus-daemon',
  'dbus-system-bus-common',
  'dbus-bin',
  'kmod',
  'busybox-static',
  // DHCP (and option 17 root-path) on private segments (segment-network.ts).
  'dnsmasq-base',
];
// libelogind0 is an alternative to libsystemd0 that apt-cache lists as well; both ship libsystemd.so.0.
const EXCLUDED = ['libelogind0'];
/** Bump when the root layout changes in a way the key does not see. */
const LAYOUT_VERSION = 2;

export interface ApplianceImage {
  kernel: CloudKernel;
  initramfs: string;
  /** SHA256:… of the appliance's SSH host key, to pin. */
  hostKeyFingerprint: string;
  /** OpenSSH private key that logs in as root. */
  clientKeyPath: string;
  /** The cache entry holding all of the above. */
  dir: string;
  key: string;
}

export async function buildAppliance(options: { cacheDir: string; log?: (line: string) => void }): Promise<ApplianceImage> {
  const log = options.log ?? (() => undefined);
  const kernel = await ensureCloudKernel({ cacheDir: options.cacheDir, log });
  const debs = await downloadDebianPackages(APPLIANCE_PACKAGES, { cacheDir: options.cacheDir, closure: true, exclude: EXCLUDED, log });
  const key = createHash('sha256')
    .update(JSON.stringify({ debs: debs.map((d) => basename(d)).sort(), kernel: kernel.version, init: INIT_SCRIPT, agent: LIO_AGENT_SOURCE, modules: APPLIANCE_MODULES, LAYOUT_VERSION }))
    .digest('hex')
    .slice(0, 16);
  const dir = join(options.cacheDir, 'lio-appliance', key);
  // The initramfs and the key pair baked into it are one entry: published together, so no run can
  // pair one build's image with another build's key.
  await ensureCacheEntry({
    path: dir,
    what: `LIO appliance ${key} (${debs.length} packages, kernel ${kernel.version})`,
    log,
    async build(staging) {
      const root = join(staging, 'root');
      await extractDebs(debs, root);
      await addKernelModules(kernel, APPLIANCE_MODULES, root);
      linkBusyboxApplets(root);
      writeSystemFiles(root);
      compilePython(root);
      const hostFingerprint = makeHostKey(root);
      makeClientKey(staging, root);
      writeFileSync(join(staging, 'host-key.fingerprint'), `${hostFingerprint}\n`);
      await buildInitramfs({ rootDir: root, outFile: join(staging, 'appliance.cpio.gz') });
      rmSync(root, { recursive: true, force: true });
      rmSync(join(staging, 'appliance.cpio.gz.key'), { force: true });
    },
  });
  return {
    kernel,
    initramfs: join(dir, 'appliance.cpio.gz'),
    hostKeyFingerprint: readFileSync(join(dir, 'host-key.fingerprint'), 'utf8').trim(),
    clientKeyPath: join(dir, 'client_ed25519'),
    dir,
    key,
  };
}

/** busybox provides every tool the packages do not (sh, mount, ip, …); real binaries win. */
function linkBusyboxApplets(root: string): void {
  const busybox = join(root, 'usr', 'bin', 'busybox');
  const applets = execFileSync(busybox, ['--list-full']).toString().split('\n').filter(Boolean);
  for (const applet of applets) {
    const name = basename(applet);
    const taken = ['usr/bin', 'usr/sbin'].some((d) => existsSync(join(root, d, name)) || isLink(join(root, d, name)));
    if (taken) continue;
    const dirName = applet.includes('sbin/') ? 'usr/sbin' : 'usr/bin';
    mkdirSync(join(root, dirName), { recursive: true });
    symlinkSync('/usr/bin/busybox', join(root, dirName, name));
  }
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function writeSystemFiles(root: string): void {
  const etc = join(root, 'etc');
  mkdirSync(etc, { recursive: true });
  writeFileSync(join(root, 'init'), INIT_SCRIPT, { mode: 0o755 });
  chmodSync(join(root, 'init'), 0o755);
  mkdirSync(join(root, dirname(LIO_AGENT_PATH)), { recursive: true });
  writeFileSync(join(root, LIO_AGENT_PATH), LIO_AGENT_SOURCE, { mode: 0o755 });
  // dbus-daemon --system drops to the messagebus user (facts.md).
  writeFileSync(join(etc, 'passwd'), 'root:*:0:0:root:/root:/bin/sh\nmessagebus:x:100:101::/nonexistent:/usr/sbin/nologin\n');
  writeFileSync(join(etc, 'group'), 'root:x:0:\nmessagebus:x:101:\n');
  writeFileSync(join(etc, 'shells'), '/bin/sh\n');
  writeFileSync(join(etc, 'hostname'), 'lio-appliance\n');
  for (const d of ['proc', 'sys', 'dev', 'run', 'tmp', 'root/.ssh', 'etc/dropbear', 'var/lib/ibft-lab', 'var/tmp']) {
    mkdirSync(join(root, d), { recursive: true });
  }
  chmodSync(join(root, 'root'), 0o700);
  chmodSync(join(root, 'tmp'), 0o1777);
}

/**
 * Python's bytecode, written at build time: Debian writes it in each
 * package's postinst, which dpkg -x never runs, so the appliance compiled
 * targetcli's imports anew at every boot (pyparsing alone took over 20 s
 * under TCG). By the root's own interpreter, so the bytecode is its version's;
 * unchecked-hash: the image never changes, so Python need not stat the sources.
 */
function compilePython(root: string): void {
  const python = readdirSync(join(root, 'usr', 'bin')).find((name) => /^python3\.\d+$/.test(name));
  if (!python) throw new Error('the appliance root has no usr/bin/python3.N (targetcli-fb depends on python3)');
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONHOME: join(root, 'usr'), LD_LIBRARY_PATH: [join(root, 'usr/lib/x86_64-linux-gnu'), join(root, 'usr/lib')].join(':') };
  delete env.PYTHONDONTWRITEBYTECODE;
  const dirs = [join(root, 'usr', 'lib', python), join(root, 'usr', 'lib', 'python3', 'dist-packages')];
  // Test suites and tools the appliance never runs (some hold deliberately broken syntax).
  const skip = '/(test|tests|idlelib|lib2to3|tkinter|turtledemo|ensurepip)/';
  execFileSync(join(root, 'usr', 'bin', python), ['-m', 'compileall', '-q', '-j', '0', '--invalidation-mode', 'unchecked-hash', '-s', root, '-p', '/', '-x', skip, ...dirs], { env, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** dropbearkey from the root itself (same Debian release as the host's loader). */
function makeHostKey(root: string): string {
  const keyPath = join(root, 'etc', 'dropbear', 'dropbear_ed25519_host_key');
  const env = { ...process.env, LD_LIBRARY_PATH: [join(root, 'usr/lib/x86_64-linux-gnu'), join(root, 'usr/lib')].join(':') };
  const dropbearkey = join(root, 'usr', 'bin', 'dropbearkey');
  execFileSync(dropbearkey, ['-t', 'ed25519', '-f', keyPath], { env, stdio: 'ignore' });
  const publicLine = execFileSync(dropbearkey, ['-y', '-f', keyPath], { env })
    .toString()
    .split('\n')
    .find((line) => line.startsWith('ssh-ed25519 '));
  if (!publicLine) throw new Error('dropbearkey -y printed no ssh-ed25519 public key');
  return sha256Fingerprint(Buffer.from(publicLine.split(/\s+/)[1], 'base64'));
}

function makeClientKey(dir: string, root: string): void {
  const keyPath = join(dir, 'client_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ibft-lab-workspace', '-f', keyPath]);
  chmodSync(keyPath, 0o600);
  writeFileSync(join(root, 'root', '.ssh', 'authorized_keys'), readFileSync(`${keyPath}.pub`), { mode: 0o600 });
  chmodSync(join(root, 'root', '.ssh'), 0o700);
}
