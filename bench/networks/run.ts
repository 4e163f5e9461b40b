// bench/networks: warm wall time of each lab on private segments (vlan,
// two-nics, multipath, dhcp-root-path) through `nx run <lab>:boot-vm`, then
// all of them at once with --parallel (no collision: every lab passes, every
// segment got its own loopback port). The raw floor in the same run: QEMU with
// the stock rtl8139 ROM, a TFTP script that runs `dhcp` and echoes a marker.
//   node -r ./tools/register-ts.js bench/networks/run.ts
// labs/vlan builds its ROM: without IPXE_SRC it is left out (said so).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startQemu } from '@ibft-lab/qemu-runner';

const root = join(__dirname, '..', '..');
const labs = ['two-nics', 'multipath', 'dhcp-root-path', ...(process.env.IPXE_SRC ? ['vlan'] : [])];

function nx(args: string[]): { seconds: number; output: string } {
  const started = Date.now();
  const run = spawnSync(process.execPath, [require.resolve('nx/bin/nx', { paths: [root] }), ...args, '--outputStyle=stream'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true' },
    maxBuffer: 64 * 1024 * 1024,
  });
  const output = `${run.stdout}${run.stderr}`;
  if (run.status !== 0) throw new Error(`nx ${args.join(' ')} failed:\n${output.slice(-3000)}`);
  return { seconds: (Date.now() - started) / 1000, output };
}

async function rawFloor(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'ibft-lab-bench-networks-'));
  try {
    writeFileSync(join(dir, 'boot.ipxe'), '#!ipxe\ndhcp\necho == raw floor ==\n');
    const vm = await startQemu({
      accel: 'tcg',
      memoryMiB: 128,
      nics: [{ model: 'rtl8139', romfile: '/usr/lib/ipxe/qemu/pxe-rtl8139.rom', netdev: { kind: 'user', tftpDir: dir, bootfile: 'boot.ipxe' } }],
    }, { deadlineMs: 120_000 });
    try {
      await vm.waitForSerial('== raw floor ==', { deadlineMs: 120_000 });
      return (Date.now() - vm.startedAt) / 1000;
    } finally {
      await vm.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function verdict(lab: string): string {
  return JSON.parse(readFileSync(join(root, 'dist', 'labs', lab, 'boot-vm', 'report.json'), 'utf8')).verdict;
}

async function main() {
  console.log(`bench/networks: ${labs.join(', ')}${process.env.IPXE_SRC ? '' : ' (vlan left out: IPXE_SRC is not set)'}; TCG`);
  console.log(`raw floor (stock ROM, dhcp + marker): ${(await rawFloor()).toFixed(1)} s`);
  for (const lab of labs) nx(['run', `${lab}:boot-vm`]); // warms every cache entry and the ROM build
  console.log('lab             warm seconds  verdict');
  for (const lab of labs) {
    const { seconds } = nx(['run', `${lab}:boot-vm`]);
    console.log(`${lab.padEnd(16)}${seconds.toFixed(1).padStart(12)}  ${verdict(lab)}`);
  }
  const together = nx(['run-many', '-t', 'boot-vm', `--projects=${labs.join(',')}`, `--parallel=${labs.length}`]);
  const ports = [...together.output.matchAll(/segment \S+ at \S+, initiators connect to (127\.0\.0\.1:\d+)/g)].map((m) => m[1]);
  const distinct = new Set(ports).size === ports.length;
  console.log(`all ${labs.length} at once (--parallel=${labs.length}): ${together.seconds.toFixed(1)} s; verdicts ${labs.map((l) => `${l} ${verdict(l)}`).join(', ')}; ${ports.length} segment ports, ${distinct ? 'all distinct' : 'COLLISION'}`);
  console.log(`raw floor again: ${(await rawFloor()).toFixed(1)} s`);
  if (!distinct || labs.some((l) => verdict(l) !== 'pass')) process.exitCode = 1;
}

void main();
