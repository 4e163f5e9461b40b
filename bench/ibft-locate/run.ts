// bench/ibft-locate: locateIbft on a crafted 16 MiB dump with an iBFT
// signature on every 16-byte boundary (1 Mi candidates, none valid, so every
// route runs: bare, BIOS window, ACPI, whole-buffer scan), against the raw
// floor measured in the same run: a plain Buffer.indexOf scan of the same
// dump for the same three signatures. Also a plain 16 MiB dump (zeros, the
// real fixture at 0x9e620). Each measurement runs in a fresh child process so
// its peak RSS is its own; rounds alternate.
//   node -r ./tools/register-ts.js bench/ibft-locate/run.ts [rounds=3]
// Needs nothing but Node.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { locateIbft } from '../../packages/ibft/src';

const SIZE = 16 << 20;
const SIGNATURES = ['iBFT', 'IBFT', 'BIFT'];
const GOAL = { ms: 2000, rssMiB: 300 };

type Shape = 'crafted' | 'plain';
type Kind = 'floor' | 'locate';

function dump(shape: Shape): Buffer {
  const memory = Buffer.alloc(SIZE);
  if (shape === 'crafted') {
    for (let o = 0; o < SIZE; o += 16) memory.write('iBFT', o, 'latin1');
  } else {
    memory.set(readFileSync(join(__dirname, '..', '..', 'packages', 'ibft', 'test', 'fixtures', 'stock-ipxe-tgt', 'ibft.bin')), 0x9e620);
  }
  return memory;
}

/** The floor: every signature on a 16-byte boundary, found with Buffer.indexOf and nothing else. */
function floor(memory: Buffer): number {
  let hits = 0;
  for (const sig of SIGNATURES) {
    for (let i = memory.indexOf(sig, 0, 'latin1'); i >= 0; i = memory.indexOf(sig, i + 1, 'latin1')) if (i % 16 === 0) hits++;
  }
  return hits;
}

interface Measurement {
  ms: number;
  count: number;
  valid: number;
  peakRssMiB: number;
  baselineRssMiB: number;
}

function child(kind: Kind, shape: Shape): void {
  const memory = dump(shape);
  const baselineRssMiB = process.resourceUsage().maxRSS / 1024;
  const started = process.hrtime.bigint();
  let count: number;
  let valid = 0;
  if (kind === 'floor') count = floor(memory);
  else {
    const candidates = locateIbft(memory);
    count = candidates.length;
    valid = candidates.filter((c) => c.valid).length;
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const m: Measurement = { ms, count, valid, peakRssMiB: process.resourceUsage().maxRSS / 1024, baselineRssMiB };
  process.stdout.write(JSON.stringify(m));
}

function measure(kind: Kind, shape: Shape): Measurement {
  const run = spawnSync(process.execPath, [...process.execArgv, __filename, '--child', kind, shape], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (run.status !== 0) throw new Error(`bench child ${kind} ${shape} failed (exit ${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout) as Measurement;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function main(): void {
  const rounds = Number(process.argv[2] ?? 3);
  console.log(`bench/ibft-locate: 16 MiB dumps, ${rounds} rounds, each run in a fresh process, Node ${process.version}`);
  let pass = true;
  for (const shape of ['crafted', 'plain'] as Shape[]) {
    const what = shape === 'crafted' ? 'crafted: iBFT on every 16-byte boundary' : 'plain: zeros, the real table at 0x9e620';
    const floors: Measurement[] = [];
    const locates: Measurement[] = [];
    for (let r = 1; r <= rounds; r++) {
      const f = measure('floor', shape);
      const l = measure('locate', shape);
      floors.push(f);
      locates.push(l);
      console.log(
        `${shape} round ${r}: floor (Buffer.indexOf) ${f.ms.toFixed(0)} ms, ${f.count} hits; locateIbft ${l.ms.toFixed(0)} ms, ${l.count} candidates (${l.valid} valid), peak RSS ${l.peakRssMiB.toFixed(0)} MiB (${l.baselineRssMiB.toFixed(0)} before locating)`,
      );
    }
    const floorMs = median(floors.map((m) => m.ms));
    const locateMs = median(locates.map((m) => m.ms));
    const rss = Math.max(...locates.map((m) => m.peakRssMiB));
    console.log(`${what}: median floor ${floorMs.toFixed(0)} ms, median locateIbft ${locateMs.toFixed(0)} ms (ratio ${(locateMs / floorMs).toFixed(1)}), highest peak RSS ${rss.toFixed(0)} MiB`);
    if (shape === 'crafted') {
      const ok = locateMs < GOAL.ms && rss < GOAL.rssMiB;
      pass &&= ok;
      console.log(`goal for the crafted dump: under ${GOAL.ms} ms and ${GOAL.rssMiB} MiB: ${ok ? 'met' : 'NOT met'}`);
    }
  }
  if (!pass) process.exitCode = 1;
}

if (process.argv[2] === '--child') child(process.argv[3] as Kind, process.argv[4] as Shape);
else main();
