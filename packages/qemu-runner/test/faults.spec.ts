// Faults a user meets before any guest boots: QEMU missing or too old, the ROM
// missing, the cache folder read-only. Each runs the boot-vm executor in a
// child Node process (as Nx would), whose TMPDIR is a folder this test watches,
// and must end with {success:false}, an error naming the cause and its fix,
// no QEMU started and no ibft-lab-* temp dir left.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MIN_QEMU_VERSION, parseQemuVersion } from '../src/lib/vm/start-qemu';

const WORKSPACE = resolve(__dirname, '..', '..', '..');
const REAL_QEMU = '/usr/bin/qemu-system-x86_64';
const QEMU_FIX = 'install Debian package qemu-system-x86 (bash tools/setup)';
const CHILD_DEADLINE_MS = 90_000;
jest.setTimeout(CHILD_DEADLINE_MS + 20_000);

interface ChildRun {
  result: { success: boolean } | undefined;
  output: string;
  /** ibft-lab-* entries left in the child's TMPDIR. */
  leftovers: string[];
  /** Every QEMU start the recording shim saw (none when no shim is on PATH). */
  qemuStarts: string[];
}

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'ibft-lab-faults-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A folder holding one executable file `name` with `body` (a shell script). */
function shimDir(name: string, body: string): string {
  const dir = mkdtempSync(join(work, 'bin-'));
  writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
  chmodSync(join(dir, name), 0o755);
  return dir;
}

/**
 * A qemu-system-x86_64 that answers --version with `versionLine` (or the real
 * QEMU's answer) and records every other start in `log` before handing over to
 * the real QEMU (or failing when there is none): the witness that no QEMU started.
 */
function recordingQemu(log: string, versionLine?: string): string {
  const version = versionLine ? `echo '${versionLine}'; exit 0` : `exec ${REAL_QEMU} --version`;
  return shimDir(
    'qemu-system-x86_64',
    `if [ "$1" = --version ]; then ${version}; fi\necho "started: $*" >> '${log}'\n[ -x ${REAL_QEMU} ] && exec ${REAL_QEMU} "$@"\nexit 1`,
  );
}

function writeScript(): string {
  const file = join(work, 'boot.ipxe');
  writeFileSync(file, '#!ipxe\ndhcp\necho == config done ==\n');
  return file;
}

async function runBootVm(options: Record<string, unknown>, env: NodeJS.ProcessEnv, qemuLog?: string): Promise<ChildRun> {
  const childTmp = mkdtempSync(join(work, 'tmp-'));
  const child = spawn(
    process.execPath,
    ['-r', './tools/register-ts.js', join(__dirname, 'support', 'executor-child.ts'), JSON.stringify({ outputPath: join(childTmp, 'report'), deadlineSeconds: 60, ...options })],
    { cwd: WORKSPACE, env: { ...process.env, TMPDIR: childTmp, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (c) => (output += c));
  child.stderr.on('data', (c) => (output += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_DEADLINE_MS);
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  clearTimeout(timer);
  if (exit.signal) throw new Error(`the executor child did not finish within ${CHILD_DEADLINE_MS} ms (${exit.signal}):\n${output}`);
  const finished = /executor finished: (.*)/.exec(output);
  return {
    result: finished ? JSON.parse(finished[1]) : undefined,
    output,
    // Only our folders count (swc-node, which runs the child's TypeScript, keeps a cache there).
    leftovers: readdirSync(childTmp).filter((name) => name.startsWith('ibft-lab-')),
    qemuStarts: qemuLog && existsSync(qemuLog) ? readFileSync(qemuLog, 'utf8').trim().split('\n') : [],
  };
}

/** Why a read-only mount cannot be made here (tests run as root, whom permission bits do not stop). */
function readOnlyMountSkipReason(): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'ibft-lab-faults-mount-'));
  try {
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', dir], { encoding: 'utf8' });
    if (mount.status !== 0) return `mount -t tmpfs -o ro is not permitted here (${(mount.stderr || mount.error?.message || '').trim()}); needs root`;
    spawnSync('umount', [dir]);
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const roMountSkip = readOnlyMountSkipReason();
if (roMountSkip) console.log(`skipping the read-only cache test: ${roMountSkip}`);

describe('QEMU version check (pure)', () => {
  it('reads the version from --version output and knows the floor', () => {
    expect(parseQemuVersion('QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\nCopyright (c) 2003-2022')).toEqual([7, 2, 22]);
    expect(parseQemuVersion('QEMU emulator version 2.11.1(Debian 1:2.11+dfsg-1ubuntu7)')).toEqual([2, 11, 1]);
    expect(parseQemuVersion('QEMU emulator version 5.0')).toEqual([5, 0, 0]);
    expect(parseQemuVersion('something else')).toBeUndefined();
    expect(MIN_QEMU_VERSION).toEqual([5, 0, 0]);
  });
});

describe('boot-vm faults before the guest boots', () => {
  it('QEMU missing from PATH: names the binary and the fix, leaves no temp dir', async () => {
    // PATH holds nothing: the child is started by absolute path, and with probe
    // off nothing but QEMU (and, if present, setpriv) is looked up on PATH.
    const emptyBin = mkdtempSync(join(work, 'bin-'));
    const run = await runBootVm({ script: writeScript(), probe: false }, { PATH: emptyBin });
    expect(run.result).toEqual({ success: false });
    expect(run.output).toContain('qemu-system-x86_64');
    expect(run.output).toContain(QEMU_FIX);
    expect(run.output).not.toContain('ENOENT');
    expect(run.leftovers).toEqual([]);
  });

  it('QEMU older than the floor is refused before it starts (QEMU binary replaced by a version-printing shim; real QEMU is exercised in vm.spec.ts)', async () => {
    const log = join(work, 'old-qemu.log');
    const bin = recordingQemu(log, 'QEMU emulator version 2.11.1');
    const run = await runBootVm({ script: writeScript(), probe: false }, { PATH: `${bin}:${process.env.PATH}` }, log);
    expect(run.result).toEqual({ success: false });
    expect(run.output).toContain('2.11.1');
    expect(run.output).toContain('5.0');
    expect(run.output).toContain('qemu-system-x86');
    expect(run.output).toContain('tools/setup');
    expect(run.qemuStarts).toEqual([]);
    expect(run.leftovers).toEqual([]);
  });

  it('rom pointing at a missing file: names rom and build-rom, starts no QEMU (starts recorded by a pass-through shim)', async () => {
    const log = join(work, 'rom-file-qemu.log');
    const bin = recordingQemu(log);
    const missing = join(work, 'no-such', 'rtl8139.rom');
    const run = await runBootVm({ script: writeScript(), probe: false, rom: missing }, { PATH: `${bin}:${process.env.PATH}` }, log);
    expect(run.result).toEqual({ success: false });
    expect(run.output).toMatch(new RegExp(`rom: ${missing}.* does not exist`));
    expect(run.output).toContain('build-rom');
    expect(run.qemuStarts).toEqual([]);
    expect(run.leftovers).toEqual([]);
  });

  it("rom pointing at a firmware folder whose manifest names a missing ROM: names rom, the manifest and build-rom, starts no QEMU (starts recorded by a pass-through shim)", async () => {
    const log = join(work, 'rom-dir-qemu.log');
    const bin = recordingQemu(log);
    const firmware = join(work, 'firmware');
    mkdirSync(firmware, { recursive: true });
    writeFileSync(join(firmware, 'manifest.json'), JSON.stringify({ mode: 'built', rom: 'rtl8139.rom' }));
    const run = await runBootVm({ script: writeScript(), probe: false, rom: firmware }, { PATH: `${bin}:${process.env.PATH}` }, log);
    expect(run.result).toEqual({ success: false });
    expect(run.output).toContain(`rom: ${join(firmware, 'rtl8139.rom')}`);
    expect(run.output).toContain(join(firmware, 'manifest.json'));
    expect(run.output).toContain('build-rom');
    expect(run.qemuStarts).toEqual([]);
    expect(run.leftovers).toEqual([]);
  });

  (roMountSkip ? describe.skip : describe)('read-only cache folder (a real read-only tmpfs mount)', () => {
    let cache: string;
    beforeAll(() => {
      cache = mkdtempSync(join(work, 'ro-cache-'));
      const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', cache], { encoding: 'utf8' });
      if (mount.status !== 0) throw new Error(`mount failed although the probe mount worked: ${mount.stderr}`);
    });
    afterAll(() => {
      if (cache) spawnSync('umount', [cache]);
    });

    it('boot-vm with probe on fails naming the folder, that it is not writable and the fix, before QEMU starts (starts recorded by a pass-through shim)', async () => {
      const log = join(work, 'ro-cache-qemu.log');
      const bin = recordingQemu(log);
      const run = await runBootVm({ script: writeScript(), probe: true }, { PATH: `${bin}:${process.env.PATH}`, IBFT_LAB_CACHE: cache }, log);
      expect(run.result).toEqual({ success: false });
      expect(run.output).toContain(cache);
      expect(run.output).toContain('not writable');
      expect(run.output).toContain('IBFT_LAB_CACHE');
      expect(run.qemuStarts).toEqual([]);
      expect(run.leftovers).toEqual([]);
    });
  });
});
