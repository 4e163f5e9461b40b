// The continuous target-vm executor in a real Node child process (as Nx runs
// it): boots the appliance, writes the endpoint, prints ready, and on SIGTERM
// stops QEMU and removes the endpoint file. A second one for the same lab
// (boot-vm's, with the first kept running in a terminal) uses the kept appliance.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectSsh, waitForEndpoint } from '../src';

jest.setTimeout(420_000);

const qemuMissing = !existsSync('/usr/bin/qemu-system-x86_64') ? 'qemu-system-x86_64 is missing' : undefined;
if (qemuMissing) console.log(`target-vm executor test skipped: ${qemuMissing}`);
const root = join(__dirname, '..', '..', '..');

/** One target-vm executor in its own Node process, as Nx runs it. */
function targetVm(endpointFile: string) {
  const script = `
    const run = require('./packages/lio-target/src/executors/target-vm/executor').default;
    run({ endpointFile: process.argv[1], readyTimeoutSeconds: 300 }, { root: process.cwd(), projectName: 'vm-test' })
      .then((r) => { console.log('result ' + JSON.stringify(r)); process.exit(r.success ? 0 : 1); });`;
  const child = spawn(process.execPath, ['-r', './tools/register-ts.js', '-e', script, endpointFile], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = { child, out: '', exited: new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code))) };
  child.stdout.on('data', (c) => (proc.out += c));
  child.stderr.on('data', (c) => (proc.out += c));
  return proc;
}

async function waitForReady(proc: ReturnType<typeof targetVm>, ms: number): Promise<number> {
  const started = Date.now();
  while (!/^ready$/m.test(proc.out)) {
    if (Date.now() - started > ms || proc.child.exitCode !== null) throw new Error(`target-vm did not print ready:\n${proc.out.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - started;
}

(qemuMissing ? it.skip : it)('target-vm serves until SIGTERM, then stops QEMU and removes its endpoint; a second target-vm of the lab serves from the kept one and leaves it running', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ibft-lab-target-vm-'));
  const endpointFile = join(dir, 'endpoint.json');
  const kept = targetVm(endpointFile);
  let second: ReturnType<typeof targetVm> | undefined;
  try {
    // What the lab's boot-vm waits on: a restore is announced before the endpoint is published, a cold boot is not.
    let announcedAt: number | undefined;
    const published = waitForEndpoint(endpointFile, Date.now() + 360_000, () => undefined, undefined, () => (announcedAt = Date.now()));
    await waitForReady(kept, 360_000);
    await published;
    const publishedAt = Date.now();
    if (kept.out.includes('restoring its saved state')) expect(announcedAt).toBeLessThan(publishedAt);
    else expect(announcedAt).toBeUndefined();
    expect(existsSync(`${endpointFile}.restoring`)).toBe(false);
    const endpoint = JSON.parse(readFileSync(endpointFile, 'utf8'));
    expect(endpoint).toMatchObject({ host: '127.0.0.1', user: 'root', guestPortal: { ip: '10.0.2.2' } });
    expect(endpoint.hostKeyFingerprint).toMatch(/^SHA256:/);

    // What `nx run lab:boot-vm` starts while `nx run lab:target-vm` is kept running in a terminal.
    second = targetVm(endpointFile);
    await waitForReady(second, 120_000);
    expect(second.out).toContain(`the kept one of pid ${kept.child.pid}`);
    expect(second.out).not.toMatch(/Linux .* booting|restored from its saved state/);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(second.out).toContain('left running');
    // The kept appliance still serves, under the same endpoint.
    expect(JSON.parse(readFileSync(endpointFile, 'utf8'))).toEqual(endpoint);
    const transport = await connectSsh({ ...endpoint, port: endpoint.sshPort });
    expect((await transport.run(['true'])).code).toBe(0);
    await transport.close();

    kept.child.kill('SIGTERM');
    expect(await kept.exited).toBe(0);
    expect(kept.out).toContain('LIO appliance stopped');
    expect(existsSync(endpointFile)).toBe(false);
  } finally {
    for (const proc of [kept, second]) {
      if (proc && proc.child.exitCode === null) {
        proc.child.kill('SIGKILL');
        await proc.exited;
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
