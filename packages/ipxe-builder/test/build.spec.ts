// Real iPXE builds (45 s+ cold on 2 shared cores) and a real QEMU boot of the
// built ROM. Runs when a real iPXE tree is available (IPXE_SRC, or a
// checkout in the workspace cache); otherwise skips with a printed reason.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildRom } from '../src/lib/build';
import { Manifest } from '../src/lib/manifest';
import { tempDir, writeFiles } from '../src/testing/fixtures';
import { NO_IPXE_TREE_MESSAGE, realIpxeTree } from '../src/testing/ipxe-tree';

const tree = realIpxeTree();
if (!tree) console.warn(NO_IPXE_TREE_MESSAGE);
const describeReal = tree ? describe : describe.skip;

const BUILD_TIMEOUT_MS = 15 * 60_000; // cold build under contention from other builds and VMs
const BOOT_DEADLINE_MS = 120_000;
const MARKER = '== config done ==';

/** Boots the ROM as the NIC's option ROM with no key press; resolves with the serial log once the marker shows. */
async function bootUntilMarker(rom: string, workDir: string): Promise<{ seconds: number; serial: string }> {
  const serialLog = join(workDir, 'serial.log');
  const qemu = spawn(
    'qemu-system-x86_64',
    ['-accel', 'tcg', '-m', '256', '-nographic', '-serial', `file:${serialLog}`, '-monitor', 'none',
      '-netdev', 'user,id=n0', '-device', `rtl8139,netdev=n0,romfile=${rom}`, '-boot', 'n'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  qemu.stderr.on('data', (d) => (stderr += d));
  const started = Date.now();
  try {
    for (;;) {
      const serial = existsSync(serialLog) ? readFileSync(serialLog, 'latin1') : '';
      if (serial.includes(MARKER)) return { seconds: (Date.now() - started) / 1000, serial };
      if (qemu.exitCode !== null) throw new Error(`qemu exited (${qemu.exitCode}) before the marker: ${stderr}\n${serial.slice(-2000)}`);
      if (Date.now() - started > BOOT_DEADLINE_MS) throw new Error(`no "${MARKER}" within ${BOOT_DEADLINE_MS / 1000} s:\n${serial.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    if (qemu.exitCode === null) {
      const exited = new Promise((r) => qemu.once('exit', r));
      qemu.kill('SIGKILL');
      await exited;
    }
  }
}

describeReal(`real iPXE build (${tree ?? 'no tree'})`, () => {
  const dir = tempDir('ipxe-builder-it-');
  const logs: string[] = [];
  const log = (l: string) => {
    logs.push(l);
    if (!/ steps, /.test(l)) console.log(l);
  };
  const ws = join(dir.path, 'ws');
  const options = {
    script: 'boot.ipxe',
    nic: 'rtl8139',
    source: { path: tree! },
    overrides: { general: { BANNER_TIMEOUT: 0, ROM_BANNER_TIMEOUT: 0 } },
    outputPath: 'firmware-a',
    jobs: 2,
  };
  let first: Manifest;

  beforeAll(() => {
    writeFiles(ws, { 'boot.ipxe': `#!ipxe\necho ${MARKER}\n` });
  });
  afterAll(() => dir.remove());

  it(
    'builds rtl8139.rom with the script embedded, and the ROM runs it under QEMU with no key press',
    async () => {
      first = await buildRom(options, { workspaceRoot: ws, cacheDir: join(dir.path, 'cache-a'), log, env: { ...process.env, IPXE_SRC: '' } });
      expect(first).toMatchObject({ mode: 'built', rom: 'rtl8139.rom', makeTarget: 'bin/rtl8139.rom' });
      const rom = join(ws, 'firmware-a', 'rtl8139.rom');
      const boot = await bootUntilMarker(rom, dir.path);
      console.log(`ipxe-builder integration: marker after ${boot.seconds.toFixed(1)} s of QEMU (TCG)`);
      expect(boot.serial).toMatch(/iPXE/);
      // GITVERSION reaches the version string when the tree is a git checkout (a plain tree has none).
      if (existsSync(join(tree!, '.git'))) expect(boot.serial).toMatch(/iPXE \d+\.\d+\.\d+\+? \(g[0-9a-f]{5}\)/);
    },
    BUILD_TIMEOUT_MS + BOOT_DEADLINE_MS,
  );

  it(
    'gives the same sha256 from a second clean build in a different tree',
    async () => {
      expect(first).toBeDefined();
      const second = await buildRom(
        { ...options, outputPath: 'firmware-b' },
        { workspaceRoot: ws, cacheDir: join(dir.path, 'cache-b'), log, env: { ...process.env, IPXE_SRC: '' } },
      );
      expect(second.romSha256).toBe(first.romSha256);
      expect(readFileSync(join(ws, 'firmware-b', 'manifest.json'), 'utf8')).toBe(readFileSync(join(ws, 'firmware-a', 'manifest.json'), 'utf8').replace(/firmware-a/g, 'firmware-b'));
    },
    BUILD_TIMEOUT_MS,
  );

  it(
    'rebuilds only the script when only the script changes (reused tree), and leaves nothing of it in the tree',
    async () => {
      const secret = 'scrub-me-secret-01';
      writeFiles(ws, { 'boot.ipxe': `#!ipxe\nset password ${secret}\necho changed\necho ${MARKER}\n` });
      const started = Date.now();
      const logged = logs.length;
      const third = await buildRom(options, { workspaceRoot: ws, cacheDir: join(dir.path, 'cache-a'), log, env: { ...process.env, IPXE_SRC: '' } });
      console.log(`ipxe-builder integration: script-only rebuild ${((Date.now() - started) / 1000).toFixed(1)} s`);
      expect(third.romSha256).not.toBe(first.romSha256);
      const rebuild = logs.slice(logged).join('\n');
      expect(rebuild).toMatch(/reusing build tree/);
      // A cold build runs hundreds of make steps; a script-only one a handful.
      const steps = Number(/(\d+) steps, [\d.]+ s done/.exec(rebuild)?.[1]);
      expect(steps).toBeLessThan(30);
      // The shared build tree keeps no file made from the script (it may hold CHAP secrets).
      const grep = spawnSync('grep', ['-rlF', '--', secret, join(dir.path, 'cache-a')], { encoding: 'utf8' });
      expect(grep.stdout.trim()).toBe('');
    },
    BUILD_TIMEOUT_MS,
  );
});
