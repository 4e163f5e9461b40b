// bench/debian-iscsi-root: a Debian root on an iSCSI LUN, booted from the iBFT.
// Prints the cold OS image build (an empty cache folder: apt resolution,
// mmdebstrap, disk) and, per warm boot, its phases read from the serial
// console: iPXE → its sanboot, GRUB reading kernel + initrd (throughput),
// kernel → the initramfs's iSCSI login, login → root mounted, root → proof,
// total. In the same run, alternating, the raw floor: plain QEMU with the
// same argv (no QMP, no runner), serial file polled for the same proof line.
//   node -r ./tools/register-ts.js bench/debian-iscsi-root/run.ts [rounds=3] [--warm]
// --warm: use the workspace's cached image (no cold build). Needs root, the
// image tools and QEMU (tools/setup), and the network for a cold build.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
import { bootOsFromLun, exportOsLun, OS_CHAP, OS_MAC, sanbootScript, type OsBootResult } from '../../packages/lio-target/test/support/os-lun-boot';

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

interface Phases {
  ipxeToSanboot: number;
  grubRead: number;
  grubMBps: number;
  kernelToLogin: number;
  loginToRoot: number;
  rootToProof: number;
  total: number;
  powerOff: number | null;
}

function phases(result: OsBootResult, image: OsImage): Phases {
  const at = (name: string) => {
    const step = result.steps.find((s) => s.name === name);
    if (!step?.matched || step.atSeconds === null) throw new Error(`the boot did not reach ${name}: ${result.steps.find((s) => s.failure)?.failure ?? 'not matched'}`);
    return step.atSeconds;
  };
  const grubRead = at('GRUB boots') - at('GRUB reads the kernel');
  const megabytes = (image.bootFiles.kernelBytes + image.bootFiles.initrdBytes) / 1e6;
  const off = result.steps.find((s) => s.name === 'power off');
  return {
    ipxeToSanboot: at('sanboot') - at('iPXE'),
    grubRead,
    grubMBps: megabytes / grubRead,
    kernelToLogin: at('iSCSI login') - at('GRUB boots'),
    loginToRoot: at('root mounted') - at('iSCSI login'),
    rootToProof: at('proof: done') - at('root mounted'),
    total: at('proof: done'),
    powerOff: off?.atSeconds ?? null,
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
    const applianceStarted = Date.now();
    const appliance = await startAppliance({ disks: [{ path: image.path, format: 'raw' }], readyDeadlineMs: 300_000 });
    try {
      const { seconds } = await exportOsLun(appliance);
      console.log(`appliance ready ${((Date.now() - applianceStarted) / 1000 - seconds).toFixed(1)} s, LUN exported ${seconds.toFixed(1)} s (not part of the boot figures)`);
      const portal = { ip: '10.0.2.2', port: appliance.endpoint.iscsiPort };
      const raw: number[] = [];
      const rawMarks: string[] = [];
      const runs: Phases[] = [];
      const f = (n: number | null) => (n === null ? '   -' : n.toFixed(1).padStart(5));
      console.log('round  raw→proof  iPXE→sanboot  GRUB read (MB/s)  kernel→login  login→root  root→proof  total  power off');
      console.log('       (seconds; total and power off from QEMU start; kernel→login: GRUB\'s boot to the initramfs\'s iSCSI disk)');
      for (let i = 0; i < rounds; i++) {
        // Alternate which goes first, so neither always boots the LUN right after the other.
        let result: OsBootResult | undefined;
        const runner = async () => {
          result = await bootOsFromLun({ portal, firmware: 'bios', deadlineSeconds: 420 });
        };
        const rawRun = async () => {
          const r = await rawToDone(portal);
          raw.push(r.seconds);
          rawMarks.push(Object.entries(r.marks).map(([name, at]) => `${name} ${at.toFixed(1)}`).join(', '));
        };
        if (i % 2 === 0) {
          await rawRun();
          await runner();
        } else {
          await runner();
          await rawRun();
        }
        if (!result) throw new Error('no runner boot');
        const p = phases(result, image);
        runs.push(p);
        console.log(
          `${String(i + 1).padStart(5)}  ${f(raw[i])} s    ${f(p.ipxeToSanboot)} s     ${f(p.grubRead)} s (${p.grubMBps.toFixed(1)})    ${f(p.kernelToLogin)} s     ${f(p.loginToRoot)} s    ${f(p.rootToProof)} s  ${f(p.total)} s  ${f(p.powerOff)} s`,
        );
      }
      const m = (key: keyof Phases) => median(runs.map((r) => r[key] ?? Number.NaN));
      console.log(
        `median  ${f(median(raw))} s    ${f(m('ipxeToSanboot'))} s     ${f(m('grubRead'))} s (${m('grubMBps').toFixed(1)})    ${f(m('kernelToLogin'))} s     ${f(m('loginToRoot'))} s    ${f(m('rootToProof'))} s  ${f(m('total'))} s  ${f(m('powerOff'))} s`,
      );
      rawMarks.forEach((marks, i) => console.log(`raw round ${i + 1} (s from QEMU start): ${marks}`));
      const ratio = m('total') / median(raw);
      console.log(`runner/raw to the proof: ${ratio.toFixed(3)} (overhead ${((ratio - 1) * 100).toFixed(1)}%)`);
      console.log(`warm boot QEMU start → proof done: median ${m('total').toFixed(1)} s (goal ≤ 60 s: ${m('total') <= 60 ? 'met' : 'not met'})`);
    } finally {
      await appliance.stop();
    }
  } finally {
    if (coldDir) removeBuildTree(coldDir);
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
