// Bench: build-rom against raw `make` in the same run, on a real iPXE tree.
//   node -r ./tools/register-ts.js bench/build-rom/run.ts
// 1. cold build: raw make in a fresh copy of src/ vs buildRom with an empty cache
// 2. script-only rebuild: raw make after editing the script vs buildRom (reused tree)
// 3. Nx cache hit: `nx run bench-build-rom:build-rom` the second time vs raw make of an unchanged tree
// Needs IPXE_SRC or .cache/ibft-lab/ipxe/checkout. Not part of npm test.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildRom } from '../../packages/ipxe-builder/src/lib/build';
import { describePath } from '../../packages/ipxe-builder/src/lib/source';
import { NO_IPXE_TREE_MESSAGE, realIpxeTree } from '../../packages/ipxe-builder/src/testing/ipxe-tree';

const root = resolve(__dirname, '../..');
const tree = realIpxeTree();
if (!tree) {
  console.error(NO_IPXE_TREE_MESSAGE.replace('integration tests SKIPPED', 'bench cannot run'));
  process.exit(1);
}

const jobs = availableParallelism();
const work = mkdtempSync(join(tmpdir(), 'bench-build-rom-'));
const quiet = () => undefined;

function seconds<T>(fn: () => T): [number, T] {
  const t = process.hrtime.bigint();
  const r = fn();
  return [Number(process.hrtime.bigint() - t) / 1e9, r];
}
async function secondsAsync<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = process.hrtime.bigint();
  const r = await fn();
  return [Number(process.hrtime.bigint() - t) / 1e9, r];
}
function must(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(cmd, args, { cwd: root, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${(r.stdout + r.stderr).slice(-3000)}`);
  return r.stdout + r.stderr;
}

const rows: Array<[string, number, number]> = [];
function row(name: string, raw: number, ours: number) {
  rows.push([name, raw, ours]);
  console.log(`${name}: raw make ${raw.toFixed(1)} s, build-rom ${ours.toFixed(2)} s (ratio ${(ours / raw).toFixed(2)})`);
}

async function main() {
  try {
    const script = join(work, 'boot.ipxe');
    writeFileSync(script, '#!ipxe\necho == config done ==\n');
    const source = describePath(tree!, 'IPXE_SRC');
    const rawTree = join(work, 'raw');
    source.populate(rawTree);
    const rawMake = () =>
      must('make', ['-C', join(rawTree, 'src'), 'bin/rtl8139.rom', `EMBED=${script}`, `-j${jobs}`], {
        ...process.env,
        SOURCE_DATE_EPOCH: String(source.sourceDateEpoch),
      });
    const options = { script, nic: 'rtl8139', source: { path: tree! }, outputPath: join(work, 'firmware'), jobs };
    const ctx = { workspaceRoot: root, cacheDir: join(work, 'cache'), env: { ...process.env, IPXE_SRC: '' }, log: quiet };
    console.log(`bench/build-rom: ${source.location}, -j${jobs}`);

    const [rawCold] = seconds(rawMake);
    const [oursCold] = await secondsAsync(() => buildRom(options, ctx));
    row('cold build', rawCold, oursCold);

    writeFileSync(script, '#!ipxe\necho script changed\necho == config done ==\n');
    const [rawScript] = seconds(rawMake);
    const [oursScript] = await secondsAsync(() => buildRom(options, ctx));
    row('script-only rebuild', rawScript, oursScript);

    const [rawNoop] = seconds(rawMake);
    const nx = [require.resolve('nx/bin/nx'), 'run', 'bench-build-rom:build-rom', '--outputStyle=stream'];
    const nxEnv = { ...process.env, IPXE_SRC: tree!, NX_DAEMON: 'false', NX_TUI: 'false' };
    must(process.execPath, nx, nxEnv); // fills the cache (or is already a hit)
    const [nxHit, out] = seconds(() => must(process.execPath, nx, nxEnv));
    if (!/existing outputs match the cache|local cache|remote cache/i.test(out)) {
      throw new Error(`second nx run was not a cache hit:\n${out.slice(-2000)}`);
    }
    row('Nx cache hit (vs raw make, nothing changed)', rawNoop, nxHit);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
