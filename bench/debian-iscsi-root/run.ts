// bench/debian-iscsi-root: labs/debian-iscsi-root as a user runs it, a Debian
// root on an iSCSI LUN booted from the iBFT. Prints the cold OS image build (an
// empty cache folder: apt resolution, mmdebstrap, disk) and, per warm run of
// `nx run debian-iscsi-root:boot-vm`, its phases timed from its streamed
// console (IBFT_LAB_VERBOSE=1): Nx start → appliance ready → target set up →
// initiator QEMU; then iPXE → its sanboot, GRUB reading kernel + initrd over
// iSCSI (throughput), kernel → the initramfs's iSCSI login, login → root
// mounted, root → proof, total. In the same run, alternating, the raw floor:
// plain QEMU (no Nx, no runner, no QMP) with the stock ROM and a sanboot
// script against an appliance started directly, serial file polled for the same lines.
//   node -r ./tools/register-ts.js bench/debian-iscsi-root/run.ts [rounds=3] [--warm]
// --warm: use the workspace's cached image (no cold build). Needs root, the
// image tools and QEMU (tools/setup), and the network for a cold build.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildQemuArgv,
  ensureOsImage,
  GRUB_MARKERS,
  osImageBuildUnavailable,
  plainSerialText,
  PROOF_PREFIX,
  QEMU_BINARY,
  removeBuildTree,
  stockRomPath,
  workspaceCacheDir,
  type OsImage,
} from '@ibft-lab/qemu-runner';
import { startAppliance } from '@ibft-lab/lio-target';
import { exportOsLun, OS_CHAP, OS_MAC, sanbootScript } from './os-lun';
import { EXAMPLE_SECRET_ENV } from '../../tools/testing/example-secrets';

const root = join(__dirname, '..', '..');
const LAB = 'debian-iscsi-root';

const DONE = `${PROOF_PREFIX} done`;
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Lines the raw run timestamps too, so a gap between raw and runner shows where it is. */
const RAW_MARKS: Array<[string, RegExp]> = [
  ['sanboot', /ibft-lab: sanboot/],
  ['GRUB boots', new RegExp(GRUB_MARKERS.booting)],
  ['iSCSI login', /Attached SCSI disk/],
  ['root mounted', /EXT4-fs \(sd[a-z]2\): mounted filesystem/],
  ['proof: done', new RegExp(`${PROOF_PREFIX} done`)],
];

/** Plain QEMU with the runner's argv minus QMP: spawn, poll the serial file for the proof's last line, let it power off. */
async function rawToDone(portal: { ip: string; port: number }): Promise<{ seconds: number; marks: Record<string, number> }> {
  const work = mkdtempSync(join(tmpdir(), 'ibft-lab-bench-raw-'));
  writeFileSync(join(work, 'boot.ipxe'), sanbootScript(portal, OS_CHAP));
  const serial = join(work, 'serial.log');
  const argv = buildQemuArgv({
    accel: 'tcg',
    memoryMiB: 512,
    firmware: 'bios',
    nics: [{ model: 'virtio-net-pci', properties: { 'disable-legacy': 'on' }, romfile: stockRomPath('virtio-net-pci', 'bios'), mac: OS_MAC, netdev: { kind: 'user', tftpDir: work, bootfile: 'boot.ipxe' } }],
    extraArgs: ['-no-reboot'],
    serialFile: serial,
    qmpSocket: join(work, 'unused.sock'),
  });
  const qmp = argv.indexOf('-qmp');
  argv.splice(qmp, 2);
  const started = Date.now();
  const qemu = spawn(QEMU_BINARY, argv, { stdio: 'ignore' });
  const exited = new Promise((r) => qemu.once('exit', r));
  try {
    const marks: Record<string, number> = {};
    for (;;) {
      const text = existsSync(serial) ? plainSerialText(readFileSync(serial, 'latin1')) : '';
      for (const [name, pattern] of RAW_MARKS) if (marks[name] === undefined && pattern.test(text)) marks[name] = (Date.now() - started) / 1000;
      if (text.includes(DONE)) break;
      if (Date.now() - started > 300_000) throw new Error('raw QEMU did not print the proof within 300 s');
      if (qemu.exitCode !== null) throw new Error(`raw QEMU exited with ${qemu.exitCode} before the proof`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const seconds = (Date.now() - started) / 1000;
    // Let it power off as the runner's boots do, so the next boot finds the LUN's file system clean.
    await Promise.race([exited, new Promise((r) => setTimeout(r, 120_000).unref())]);
    return { seconds, marks };
  } finally {
    qemu.kill('SIGKILL');
    await new Promise((r) => (qemu.exitCode !== null || qemu.signalCode !== null ? r(null) : qemu.once('exit', r)));
    rmSync(work, { recursive: true, force: true });
  }
}

/** The raw floor of one round: an appliance started directly (no Nx), the LUN exported, plain QEMU to the proof. */
async function rawFloor(image: OsImage): Promise<{ seconds: number; ready: number; marks: Record<string, number> }> {
  const started = Date.now();
  const appliance = await startAppliance({ disks: [{ path: image.path, format: 'raw' }], readyDeadlineMs: 300_000 });
  try {
    await exportOsLun(appliance);
    const ready = (Date.now() - started) / 1000;
    const r = await rawToDone({ ip: '10.0.2.2', port: appliance.endpoint.iscsiPort });
    return { ...r, ready };
  } finally {
    await appliance.stop();
  }
}

interface Phases {
  nxToReady: number;
  setup: number;
  ipxeToSanboot: number;
  grubRead: number;
  grubMBps: number;
  kernelToLogin: number;
  loginToRoot: number;
  rootToProof: number;
  /** Initiator QEMU start → proof done. */
  total: number;
  /** Nx start → the run's end (appliance stopped). */
  nxTotal: number;
}

/** Console lines of the lab run, in order; the first match of each is timed. */
const LAB_MARKS: Array<[string, RegExp]> = [
  ['appliance ready', /LIO appliance: ssh /],
  ['setup done', /setup-target: wrote /],
  ['initiator QEMU', new RegExp(`\\[${LAB}\\] `)],
  ['iPXE', /iPXE \d.* -- Open Source Network Boot Firmware/],
  ['sanboot', /Booting from SAN device/],
  ['GRUB reads the kernel', new RegExp(GRUB_MARKERS.loadingKernel)],
  ['GRUB boots', new RegExp(GRUB_MARKERS.booting)],
  ['iSCSI login', /Attached SCSI disk/],
  ['root mounted', /EXT4-fs \(sd[a-z]2\): mounted filesystem/],
  ['proof: done', new RegExp(`${PROOF_PREFIX} done`)],
];

/** `nx run debian-iscsi-root:boot-vm`, its console streamed, each mark timed (seconds from Nx's start). */
async function labRun(image: OsImage): Promise<Phases> {
  const started = Date.now();
  const nx = spawn(process.execPath, [require.resolve('nx/bin/nx', { paths: [root] }), 'run', `${LAB}:boot-vm`, '--outputStyle=stream'], {
    cwd: root,
    env: { ...process.env, ...EXAMPLE_SECRET_ENV, IBFT_LAB_VERBOSE: '1', IBFT_LAB_CACHE: workspaceCacheDir(), NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const marks: Record<string, number> = {};
  const tail: string[] = [];
  const read = (stream: NodeJS.ReadableStream) =>
    createInterface({ input: stream }).on('line', (line) => {
      tail.push(line);
      if (tail.length > 60) tail.shift();
      for (const [name, pattern] of LAB_MARKS) if (marks[name] === undefined && pattern.test(line)) marks[name] = (Date.now() - started) / 1000;
    });
  read(nx.stdout!);
  read(nx.stderr!);
  const code = await new Promise<number | null>((r) => nx.once('exit', r));
  const nxTotal = (Date.now() - started) / 1000;
  if (code !== 0) throw new Error(`nx run ${LAB}:boot-vm exited ${code}:\n${tail.join('\n')}`);
  const at = (name: string) => {
    if (marks[name] === undefined) throw new Error(`the lab run printed no ${name} line:\n${tail.join('\n')}`);
    return marks[name];
  };
  const grubRead = at('GRUB boots') - at('GRUB reads the kernel');
  return {
    nxToReady: at('appliance ready'),
    setup: at('setup done') - at('appliance ready'),
    ipxeToSanboot: at('sanboot') - at('iPXE'),
    grubRead,
    grubMBps: (image.bootFiles.kernelBytes + image.bootFiles.initrdBytes) / 1e6 / grubRead,
    kernelToLogin: at('iSCSI login') - at('GRUB boots'),
    loginToRoot: at('root mounted') - at('iSCSI login'),
    rootToProof: at('proof: done') - at('root mounted'),
    total: at('proof: done') - at('initiator QEMU'),
    nxTotal,
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const rounds = Number(args.find((a) => /^\d+$/.test(a)) ?? 3);
  const warmOnly = args.includes('--warm');
  const why = osImageBuildUnavailable();
  if (why) throw new Error(`bench/debian-iscsi-root: ${why}`);

  let image: OsImage;
  let coldDir: string | undefined;
  if (warmOnly) {
    image = await ensureOsImage({ cacheDir: workspaceCacheDir(), recipe: 'debian-iscsi-root' });
    console.log(`image ${image.key} from the workspace cache (cold build not measured: --warm)`);
  } else {
    coldDir = mkdtempSync(join(tmpdir(), 'ibft-lab-bench-cold-'));
    const started = Date.now();
    image = await ensureOsImage({ cacheDir: coldDir, recipe: 'debian-iscsi-root' });
    const s = image.buildSeconds;
    console.log(
      `cold image build: ${((Date.now() - started) / 1000).toFixed(1)} s (mmdebstrap ${s.rootfs.toFixed(1)} s, disk ${s.disk.toFixed(1)} s, apt resolution and sha256 ${((Date.now() - started) / 1000 - s.total).toFixed(1)} s), ${(image.sizeBytes / 2 ** 20).toFixed(0)} MiB sparse`,
    );
  }
  try {
    console.log(`kernel ${(image.bootFiles.kernelBytes / 1e6).toFixed(1)} MB + initrd ${(image.bootFiles.initrdBytes / 1e6).toFixed(1)} MB, read by GRUB through iPXE's SAN device`);
    const raw: Array<{ seconds: number; ready: number; marks: Record<string, number> }> = [];
    const runs: Phases[] = [];
    const f = (n: number) => n.toFixed(1).padStart(5);
    console.log('round  nx→ready  setup  iPXE→sanboot  GRUB read (MB/s)  kernel→login  login→root  root→proof  QEMU→proof  nx total | raw: ready  QEMU→proof');
    console.log('       (seconds; the lab run from `nx run`, the raw floor from plain QEMU against an appliance started directly)');
    for (let i = 0; i < rounds; i++) {
      // Alternate which goes first, so neither always runs right after the other.
      const rawRun = async () => raw.push(await rawFloor(image));
      const lab = async () => void runs.push(await labRun(image));
      if (i % 2 === 0) {
        await rawRun();
        await lab();
      } else {
        await lab();
        await rawRun();
      }
      const p = runs[i];
      const r = raw[i];
      console.log(
        `${String(i + 1).padStart(5)}  ${f(p.nxToReady)} s ${f(p.setup)} s   ${f(p.ipxeToSanboot)} s     ${f(p.grubRead)} s (${p.grubMBps.toFixed(1)})    ${f(p.kernelToLogin)} s     ${f(p.loginToRoot)} s    ${f(p.rootToProof)} s    ${f(p.total)} s  ${f(p.nxTotal)} s | ${f(r.ready)} s  ${f(r.seconds)} s`,
      );
    }
    const m = (key: keyof Phases) => median(runs.map((r) => r[key]));
    console.log(
      `median  ${f(m('nxToReady'))} s ${f(m('setup'))} s   ${f(m('ipxeToSanboot'))} s     ${f(m('grubRead'))} s (${m('grubMBps').toFixed(1)})    ${f(m('kernelToLogin'))} s     ${f(m('loginToRoot'))} s    ${f(m('rootToProof'))} s    ${f(m('total'))} s  ${f(m('nxTotal'))} s | ${f(median(raw.map((r) => r.ready)))} s  ${f(median(raw.map((r) => r.seconds)))} s`,
    );
    raw.forEach((r, i) => console.log(`raw round ${i + 1} (s from QEMU start): ${Object.entries(r.marks).map(([name, at]) => `${name} ${at.toFixed(1)}`).join(', ')}`));
    const ratio = m('total') / median(raw.map((r) => r.seconds));
    console.log(`lab/raw, initiator QEMU start → proof: ${ratio.toFixed(3)} (overhead ${((ratio - 1) * 100).toFixed(1)}%)`);
    console.log(`warm lab run (nx run ${LAB}:boot-vm, whole): median ${m('nxTotal').toFixed(1)} s (goal ≤ 60 s: ${m('nxTotal') <= 60 ? 'met' : 'not met'}); initiator QEMU → proof ${m('total').toFixed(1)} s`);
    console.log(`load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  } finally {
    if (coldDir) removeBuildTree(coldDir);
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
