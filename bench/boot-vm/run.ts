// bench/boot-vm: the warm main job, `npx nx run lab:boot-vm`, phase by phase as
// its output shows them (each line timed as it arrives), against the floor
// measured in the same run: raw QEMU with the same stock ROM fetching a script
// over TFTP that configures the network as the lab's does and echoes the
// marker. Then the same with a kept target (`nx run lab:target-vm` left running).
// The runs stream every console (IBFT_LAB_VERBOSE=1), so the initiator's phases
// are timed down to each consumer inside the probe guest; each round also times
// Nx's project graph alone (`nx show projects`).
//   node -r ./tools/register-ts.js bench/boot-vm/run.ts [rounds=3]
// Needs what `nx run lab:boot-vm` needs (qemu-system-x86, ipxe-qemu; the image cache warm).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MAC, DEFAULT_MARKER, plainSerialText, stockRomPath } from '../../packages/qemu-runner/src';

const root = join(__dirname, '..', '..');
const nxBin = require.resolve('nx/bin/nx', { paths: [root] });

/** Plain QEMU, no QMP, no runner: spawn, poll the serial file for the marker, kill. */
async function rawQemuToMarker(tftpDir: string, rom: string): Promise<number> {
  const work = mkdtempSync(join(tmpdir(), 'ibft-lab-bench-raw-'));
  const serial = join(work, 'serial.log');
  const started = Date.now();
  const qemu = spawn(
    'qemu-system-x86_64',
    [
      '-accel', 'tcg', '-m', '256', '-nographic', '-serial', `file:${serial}`, '-monitor', 'none',
      '-netdev', `user,id=net0,tftp=${tftpDir},bootfile=boot.ipxe`,
      '-device', `rtl8139,netdev=net0,mac=${DEFAULT_MAC},romfile=${rom},bootindex=1`, '-boot', 'n',
    ],
    { stdio: 'ignore' },
  );
  try {
    for (;;) {
      if (existsSync(serial) && plainSerialText(readFileSync(serial, 'latin1')).includes(DEFAULT_MARKER)) return Date.now() - started;
      if (Date.now() - started > 300_000) throw new Error('raw QEMU did not reach the marker within 300 s');
      if (qemu.exitCode !== null) throw new Error(`raw QEMU exited with ${qemu.exitCode}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    qemu.kill('SIGKILL');
    await new Promise((r) => (qemu.exitCode !== null || qemu.signalCode !== null ? r(null) : qemu.once('exit', r)));
    rmSync(work, { recursive: true, force: true });
  }
}

interface TimedLine {
  ms: number;
  line: string;
}

function nx(args: string[]): ChildProcess {
  return spawn(process.execPath, [nxBin, ...args], {
    cwd: root,
    env: { ...process.env, IBFT_LAB_VERBOSE: '1', NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs `nx run lab:boot-vm`, timing each output line from the spawn. */
async function timedBootVm(): Promise<{ totalMs: number; lines: TimedLine[]; code: number | null }> {
  const started = Date.now();
  const child = nx(['run', 'lab:boot-vm']);
  const lines: TimedLine[] = [];
  let partial = '';
  const take = (chunk: Buffer) => {
    partial += chunk.toString();
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) lines.push({ ms: Date.now() - started, line });
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  return { totalMs: Date.now() - started, lines, code };
}

/** The first line matching each phase's pattern, in order: the phase ends there. */
const PHASES: Array<[string, RegExp]> = [
  ['Nx start → first task', /^> nx run lab:/],
  // boot-vm starts beside target-vm (continuous); its initiator boots once the appliance is being restored
  // (or is published), and the target is applied meanwhile: the appliance's readiness and the apply are
  // timed beside the phases (phaseTimes), not in their sum. A held login shows in "TFTP script → SAN device".
  ['→ boot-vm task start', /^> nx run lab:boot-vm/],
  ['→ SeaBIOS', /^\[lab\] SeaBIOS/],
  ['SeaBIOS → iPXE', /^\[lab\] iPXE \d/],
  ['iPXE Ctrl-B banner', /^\[lab\] Press Ctrl-B/],
  ['DHCP (ROM)', /^\[lab\] Configuring \(net0/],
  ['TFTP script → SAN device', /^\[lab\] Registered SAN device/],
  ['SAN device → marker', /^\[lab\] (marker )?== config done ==/],
  ['probe kernel+initrd TFTP', /^\[lab\] tftp:\/\/10\.0\.2\.2\/probe\/initrd\S*\.\.\. ok/],
  ['probe kernel → /init', /^\[lab\] IBFT-LAB-PROBE-BEGIN/],
  ['  sysfs readout', /^\[lab\] IBFT-LAB-CONSUMER-BEGIN/],
  ['  dracut', /^\[lab\] IBFT-LAB-CONSUMER-END dracut/],
  ['  NetworkManager', /^\[lab\] IBFT-LAB-CONSUMER-END networkmanager/],
  ['  NIC setup', /^\[lab\] IBFT-LAB-CONSUMER-END setup/],
  ['  iscsiadm', /^\[lab\] IBFT-LAB-CONSUMER-END iscsiadm/],
  ['  iscsistart', /^\[lab\] IBFT-LAB-CONSUMER-END iscsistart/],
  ['probe end', /^\[lab\] (IBFT-LAB-PROBE-END|Linux probe done)/],
  ['probe end → summary', /^lab:boot-vm: (PASS|FAIL)/],
];

function phaseTimes(lines: TimedLine[], totalMs: number): Array<[string, number | null]> {
  const out: Array<[string, number | null]> = [];
  let last = 0;
  let from = 0;
  for (const [name, pattern] of PHASES) {
    const index = lines.findIndex((l, i) => i >= from && pattern.test(l.line.trim()));
    if (index < 0) {
      out.push([name, null]);
      continue;
    }
    out.push([name, lines[index].ms - last]);
    last = lines[index].ms;
    from = index + 1;
  }
  out.push(['summary → Nx exit', totalMs - last]);
  const taskStart = lines.find((l) => /^> nx run lab:boot-vm/.test(l.line.trim()));
  const ready = lines.find((l) => /^ready$/.test(l.line.trim()));
  out.push(['appliance ready, from boot-vm task start (beside the initiator, not in the sum)', taskStart && ready ? Math.max(0, ready.ms - taskStart.ms) : null]);
  const apply = lines.map((l) => /^setup-target: \d+ command\(s\).*, ([\d.]+) s$/.exec(l.line.trim())).find(Boolean);
  out.push(['setup-target apply (beside the initiator, not in the sum)', apply ? Number(apply[1]) * 1000 : null]);
  return out;
}

/** Nx's project graph alone: what every nx command pays before it runs a task. */
async function nxGraphMs(): Promise<number> {
  const started = Date.now();
  const child = nx(['show', 'projects']);
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`nx show projects exited ${code}`);
  return Date.now() - started;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const seconds = (ms: number | null) => (ms === null ? '   –  ' : `${(ms / 1000).toFixed(1).padStart(5)} s`);

async function rounds(label: string, count: number, floorScript: string, rom: string): Promise<void> {
  const raw: number[] = [];
  const graph: number[] = [];
  const totals: number[] = [];
  const table: Array<Array<[string, number | null]>> = [];
  for (let i = 0; i < count; i++) {
    raw.push(await rawQemuToMarker(floorScript, rom));
    graph.push(await nxGraphMs());
    const run = await timedBootVm();
    // A failed verdict (e.g. a consumer timing out on a loaded machine) still timed every phase: keep it, say so.
    const verdict = run.lines.find((l) => /^lab:boot-vm: (PASS|FAIL)/.test(l.line.trim()))?.line.trim().split(' ')[1] ?? `no verdict (exit ${run.code})`;
    if (!/PASS|FAIL/.test(verdict)) throw new Error(`nx run lab:boot-vm exited ${run.code}:\n${run.lines.slice(-40).map((l) => l.line).join('\n')}`);
    totals.push(run.totalMs);
    table.push(phaseTimes(run.lines, run.totalMs));
    const starts = run.lines.find((l) => /targetcli start\(s\)/.test(l.line))?.line.trim() ?? '';
    const appliance = run.lines.find((l) => /restored from its saved state|the kept one of pid|\[lio-appliance\] ready|\[lio-appliance\] ibft-lab appliance: restored/.test(l.line))?.line.trim() ?? '';
    console.log(`${label} round ${i + 1}: raw QEMU → marker ${seconds(raw[i])}; nx show projects ${seconds(graph[i])}; nx run lab:boot-vm ${seconds(run.totalMs)} ${verdict} (${appliance}; ${starts}; load ${loadavg()[0].toFixed(1)})`);
  }
  console.log(`${label}: phases (median of ${count})`);
  for (let p = 0; p < table[0].length; p++) {
    const values = table.map((t) => t[p][1]).filter((v): v is number => v !== null);
    console.log(`  ${table[0][p][0].padEnd(26)} ${seconds(values.length ? median(values) : null)}`);
  }
  console.log(`${label}: Nx project graph alone (nx show projects, median) ${seconds(median(graph))}`);
  const ratio = median(totals) / median(raw);
  console.log(`${label}: median nx run lab:boot-vm ${seconds(median(totals))}, floor (raw QEMU → marker) ${seconds(median(raw))}, ratio ${ratio.toFixed(2)}`);
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 3);
  const floorScript = mkdtempSync(join(tmpdir(), 'ibft-lab-bench-tftp-'));
  let kept: ChildProcess | undefined;
  try {
    // The lab's network lines, then the marker: what any boot of this lab must at least do.
    writeFileSync(join(floorScript, 'boot.ipxe'), `#!ipxe\nisset \${net0/ip} || dhcp\necho ${DEFAULT_MARKER}\n`);
    const rom = stockRomPath('rtl8139', 'bios');
    // One untimed run so every cache entry (images, saved appliance state, Nx's) is warm.
    const warmup = await timedBootVm();
    if (!warmup.lines.some((l) => /^lab:boot-vm: (PASS|FAIL)/.test(l.line.trim()))) throw new Error(`warm-up nx run lab:boot-vm exited ${warmup.code}:\n${warmup.lines.slice(-40).map((l) => l.line).join('\n')}`);
    await rounds('warm', count, floorScript, rom);

    kept = nx(['run', 'lab:target-vm']);
    let out = '';
    kept.stdout?.on('data', (c) => (out += c));
    kept.stderr?.on('data', (c) => (out += c));
    const deadline = Date.now() + 300_000;
    while (!/^ready$/m.test(out)) {
      if (Date.now() > deadline || kept.exitCode !== null) throw new Error(`nx run lab:target-vm did not get ready:\n${out.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // The first boot-vm against it configures the target; the timed ones find it configured.
    await timedBootVm();
    await rounds('kept target', count, floorScript, rom);
  } finally {
    if (kept && kept.exitCode === null) {
      kept.kill('SIGINT');
      await new Promise((r) => kept?.once('exit', r));
    }
    rmSync(floorScript, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
