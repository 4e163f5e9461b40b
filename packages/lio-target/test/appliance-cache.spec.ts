// The appliance's cache entry under the faults a fresh clone meets: its first
// build killed with SIGKILL half-way (the next run must not use the half), and
// an entry whose client key was replaced (the run must fail at once, naming
// the key, instead of retrying SSH until its deadline). The saved state of the
// booted appliance: restored by the next start, and a broken one replaced.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { liveVmCount, workspaceCacheDir } from '@ibft-lab/qemu-runner';
import { askLioAgent, SAVED_STATE_FILE, SshRefused, startAppliance } from '../src';

jest.setTimeout(600_000);

const qemuMissing = !existsSync('/usr/bin/qemu-system-x86_64') ? 'qemu-system-x86_64 is missing (tools/setup installs it)' : undefined;
if (qemuMissing) console.log(`appliance cache tests skipped: ${qemuMissing}`);
const describeVm = qemuMissing ? describe.skip : describe;

const WORKSPACE = resolve(__dirname, '..', '..', '..');

describeVm('the LIO appliance cache entry', () => {
  let cache: string;
  beforeAll(() => {
    cache = mkdtempSync(join(tmpdir(), 'ibft-lab-appliance-cache-'));
    // The downloaded .debs and the extracted kernel are other entries: share them, build the appliance afresh.
    const shared = workspaceCacheDir();
    for (const part of ['debs', 'kernels']) if (existsSync(join(shared, part))) cpSync(join(shared, part), join(cache, part), { recursive: true });
  });
  afterAll(() => rmSync(cache, { recursive: true, force: true }));

  it('a first build killed with SIGKILL half-way leaves no entry; the next run discards the half, builds, boots, and answers targetcli and its LIO agent', async () => {
    const child = spawn(process.execPath, ['-r', join(WORKSPACE, 'tools', 'register-ts.js'), join(__dirname, 'support', 'build-appliance-child.ts'), cache], {
      cwd: WORKSPACE,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise((r) => child.on('exit', r));
    const applianceDir = join(cache, 'lio-appliance');
    // Kill it once the staging folder holds part of the root: the packages are being unpacked.
    const deadline = Date.now() + 120_000;
    const halfway = () =>
      existsSync(applianceDir) &&
      readdirSync(applianceDir).some((name) => name.includes('.staging-') && existsSync(join(applianceDir, name, 'root', 'usr')));
    while (!halfway()) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the build never got half-way: ${output}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await exited;
    expect(output).toMatch(/building LIO appliance [0-9a-f]{16}/);
    expect(output).not.toContain('BUILT');
    const left = readdirSync(applianceDir);
    expect(left.filter((name) => /^[0-9a-f]{16}$/.test(name))).toEqual([]);
    expect(left.filter((name) => name.includes('.staging-'))).toHaveLength(1);

    const lines: string[] = [];
    const appliance = await startAppliance({ cacheDir: cache, log: (line) => lines.push(line), readyDeadlineMs: 300_000 });
    try {
      const transport = await appliance.connect();
      expect((await transport.run(['targetcli', 'ls', '/', '1'])).code).toBe(0);
      expect(await askLioAgent(transport, { op: 'ping' })).toEqual({ ok: true });
    } finally {
      await appliance.stop();
    }
    expect(lines.join('\n')).toMatch(/taking over .*\.lock from pid \d+ .*which is gone/);
    expect(lines.filter((line) => line.startsWith('building LIO appliance'))).toHaveLength(1);
    expect(readdirSync(applianceDir).filter((name) => name.includes('.staging-') || name.endsWith('.lock'))).toEqual([]);
    expect(liveVmCount()).toBe(0);
  });

  it('the first start saved the booted appliance: the next restores it (same host key, the host clock); a broken state falls back to a boot and is saved again', async () => {
    const stateDir = join(cache, 'lio-appliance-state');
    const [state] = readdirSync(stateDir).filter((name) => /^[0-9a-f]{16}$/.test(name));
    expect(state).toBeDefined();
    const lines: string[] = [];
    const restored = await startAppliance({ cacheDir: cache, log: (line) => lines.push(line), readyDeadlineMs: 300_000 });
    try {
      expect(restored.start).toBe('restored');
      // The saved state is entered by migration: the kernel's boot is not on this console.
      expect(restored.vm.serialText()).not.toContain('Linux version');
      const transport = await restored.connect();
      expect((await transport.run(['targetcli', 'ls', '/', '1'])).code).toBe(0);
      // Its LIO agent came back with it, warm: it answers at once, with no boot or import of its own.
      expect((await askLioAgent(transport, { op: 'dump' })).state).toMatchObject({ storage_objects: expect.any(Array), targets: expect.any(Array) });
      const guestClock = Number((await transport.run(['date', '+%s'])).stdout.trim());
      await restored.vm.waitForSerial('ibft-lab appliance: restored', { deadlineMs: 10_000 });
      expect(Math.abs(guestClock - Date.now() / 1000)).toBeLessThan(60);
    } finally {
      await restored.stop();
    }
    expect(lines).toContain('LIO appliance: restoring its saved state');
    expect(lines).toContain('[lio-appliance] ibft-lab appliance: restored');
    // Saved through zstd: its frame's magic number, and well under the guest's 768 MiB.
    const file = join(stateDir, state, SAVED_STATE_FILE);
    const magic = Buffer.alloc(4);
    const fd = openSync(file, 'r');
    readSync(fd, magic, 0, 4, 0);
    closeSync(fd);
    expect(magic.toString('hex')).toBe('28b52ffd');
    expect(statSync(file).size).toBeLessThan(200 * 2 ** 20);

    // Cut the state in half, as a full disk would leave it.
    truncateSync(file, Math.floor(statSync(file).size / 2));
    lines.length = 0;
    const booted = await startAppliance({ cacheDir: cache, log: (line) => lines.push(line), readyDeadlineMs: 300_000 });
    try {
      expect(booted.start).toBe('booted');
      const transport = await booted.connect();
      expect((await transport.run(['targetcli', 'ls', '/', '1'])).code).toBe(0);
    } finally {
      await booted.stop();
    }
    expect(lines.join('\n')).toMatch(/its saved state did not restore \(.+\); booting it and saving it again/);
    expect(lines.filter((line) => line.startsWith('building saved state of LIO appliance'))).toHaveLength(1);
    expect(statSync(file).size).toBeGreaterThan(0);
    expect(readdirSync(stateDir).filter((name) => !/^[0-9a-f]{16}(\.lock)?$/.test(name))).toEqual([]);
    expect(liveVmCount()).toBe(0);
  });

  it('an entry whose client key was replaced fails as soon as SSH answers, naming the key and the entry, and stops its VM', async () => {
    const [entry] = readdirSync(join(cache, 'lio-appliance')).filter((name) => /^[0-9a-f]{16}$/.test(name));
    const key = join(cache, 'lio-appliance', entry, 'client_ed25519');
    rmSync(key);
    rmSync(`${key}.pub`);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    const lines: string[] = [];
    const started = Date.now();
    const run = startAppliance({ cacheDir: cache, log: (line) => lines.push(line), readyDeadlineMs: 300_000 });
    await expect(run).rejects.toBeInstanceOf(SshRefused);
    await expect(run).rejects.toThrow(new RegExp(`does not accept the key ${key}.*cache entry ${join(cache, 'lio-appliance', entry)}`));
    // Booted to its ready marker, then refused on the first attempt: no waiting for the 300 s deadline.
    expect(Date.now() - started).toBeLessThan(90_000);
    expect(lines.filter((line) => line.startsWith('waiting for the LIO agent over SSH'))).toEqual([]);
    expect(liveVmCount()).toBe(0);
  });
});
