// A kept target as a user keeps one: `nx run lab:target-vm` left running in a
// terminal, then `nx run lab:boot-vm` in another. Each boot-vm uses the kept
// appliance and leaves it running; the first run configures it,
// the next finds nothing to do; Ctrl-C of a boot-vm that uses it stops that
// run's initiator but not the kept appliance; Ctrl-C of the kept target-vm stops
// its appliance and removes its endpoint file. Real Nx, QEMU, LIO and SSH.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { processAlive } from '@ibft-lab/cache';
import { processesMentioning } from '../../tools/testing/processes';
import { qemuStartedWith } from '../../tools/testing/qemu-processes';

const root = join(__dirname, '..', '..');
const NX = require.resolve('nx/bin/nx', { paths: [root] });
const ENDPOINT = join(root, 'dist', 'labs', 'lab', 'target', 'endpoint.json');
/** One warm boot-vm is 25 to 40 s here; TCG on 2 shared cores can take far longer. */
const RUN_DEADLINE_MS = 240_000;
jest.setTimeout(4 * RUN_DEADLINE_MS);

function skipReason(): string | undefined {
  if (!existsSync('/usr/bin/qemu-system-x86_64')) return 'qemu-system-x86_64 is not installed (bash tools/setup)';
  if (!existsSync('/usr/lib/ipxe/qemu/pxe-rtl8139.rom')) return 'ipxe-qemu stock ROMs are missing (bash tools/setup)';
  return undefined;
}

function readEndpoint(): { pid: number; iscsiPort: number } | undefined {
  try {
    return JSON.parse(readFileSync(ENDPOINT, 'utf8'));
  } catch {
    return undefined;
  }
}



interface NxRun {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once `pattern` is in the output; rejects at the deadline or when Nx exits first. */
  waitFor(pattern: RegExp, deadlineMs?: number): Promise<void>;
}

/** `nx run <target>` in its own process group (as a terminal's foreground job), marked by `marker` in its environment. */
function startNx(target: string, marker: string, tmp: string): NxRun {
  const child = spawn(process.execPath, [NX, 'run', target, '--outputStyle=stream'], {
    cwd: root,
    detached: true,
    env: { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true', TMPDIR: tmp, IBFT_LAB_TEST_RUN: marker },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let raw = '';
  const take = (chunk: Buffer) => void (raw += chunk.toString('utf8'));
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  const output = () => stripVTControlCharacters(raw);
  return {
    child,
    output,
    exited,
    async waitFor(pattern, deadlineMs = RUN_DEADLINE_MS) {
      const until = Date.now() + deadlineMs;
      while (!pattern.test(output())) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`nx run ${target} exited (${child.exitCode ?? child.signalCode}) before ${pattern}:\n${output().slice(-3000)}`);
        if (Date.now() > until) throw new Error(`nx run ${target} did not reach ${pattern} within ${deadlineMs} ms:\n${output().slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

async function interrupt(run: NxRun): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  process.kill(-(run.child.pid as number), 'SIGINT');
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([run.exited, new Promise<'deadline'>((r) => (timer = setTimeout(() => r('deadline'), 60_000)))]);
  clearTimeout(timer);
  if (result === 'deadline') throw new Error(`nx did not exit within 60 s of SIGINT:\n${run.output().slice(-3000)}`);
  return result;
}

const reason = skipReason();
if (reason) console.log(`kept-target e2e skipped: ${reason}`);

(reason ? describe.skip : describe)('a kept target: nx run lab:target-vm left running, nx run lab:boot-vm beside it', () => {
  let work: string;
  const runs: NxRun[] = [];
  const keptMarker = `kept-target-${process.pid}`;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'ibft-lab-e2e-kept-'));
  });

  afterAll(async () => {
    // Whatever happened: nothing this test started outlives it.
    for (const run of runs) {
      try {
        process.kill(-(run.child.pid as number), 'SIGKILL');
      } catch {
        // the group is gone
      }
    }
    for (const pid of qemuStartedWith(`IBFT_LAB_TEST_RUN=${keptMarker}`)) process.kill(pid, 'SIGKILL');
    rmSync(work, { recursive: true, force: true });
  });

  it('serves every boot-vm of the lab (configured once, then a no-op), outlives a Ctrl-C of one, and stops with its own Ctrl-C leaving nothing', async () => {
    const existing = readEndpoint()?.pid;
    if (existing !== undefined && processAlive(existing)) {
      // Someone's kept target (or a parallel suite) holds the lab right now: this test would be about it.
      console.log(`kept-target e2e: another run of lab holds ${ENDPOINT} (pid ${existing}); run this test alone`);
      return;
    }
    rmSync(ENDPOINT, { force: true }); // stale: its writer is dead

    const kept = startNx('lab:target-vm', keptMarker, mkdtempSync(join(work, 'kept-')));
    runs.push(kept);
    await kept.waitFor(/^(lab: )?ready$/m);
    const endpoint = readEndpoint();
    expect(endpoint && processAlive(endpoint.pid)).toBe(true);
    const keptQemu = qemuStartedWith(`IBFT_LAB_TEST_RUN=${keptMarker}`);
    expect(keptQemu).toHaveLength(1);

    const boot = async (n: number) => {
      const marker = `kept-target-boot${n}-${process.pid}`;
      const run = startNx('lab:boot-vm', marker, mkdtempSync(join(work, `boot${n}-`)));
      runs.push(run);
      const result = await run.exited;
      const output = run.output();
      expect({ n, result, pass: /lab:boot-vm: PASS/.test(output) }).toEqual({ n, result: { code: 0, signal: null }, pass: true });
      // No second appliance: Nx 24 shares the continuous target-vm another nx process runs ("Waiting for …
      // in another nx process"); an Nx that starts its own, finds the kept one by its endpoint file and serves that.
      expect(output).toMatch(new RegExp(`Waiting for lab:target-vm in another nx process|LIO appliance: the kept one of pid ${endpoint!.pid}`));
      expect(output).not.toMatch(/LIO appliance: restoring its saved state|\[lio-appliance\] Linux/);
      expect(qemuStartedWith(`IBFT_LAB_TEST_RUN=${marker}`)).toEqual([]);
      return output;
    };
    // The kept appliance starts empty: the first run configures it, through its LIO agent.
    expect(await boot(1)).toMatch(/setup-target: 6 command\(s\), 0 targetcli start\(s\) \(2 request\(s\) to the LIO agent's warm targetcli\)/);
    expect(await boot(2)).toMatch(/setup-target: 0 command\(s\), 0 targetcli start\(s\) \(1 request\(s\) to the LIO agent's warm targetcli\)/);
    expect(qemuStartedWith(`IBFT_LAB_TEST_RUN=${keptMarker}`)).toEqual(keptQemu);
    expect(readEndpoint()?.pid).toBe(endpoint!.pid);

    // Ctrl-C of a boot-vm that uses the kept target, its initiator booting: that run stops, the kept appliance does not.
    const marker = `kept-target-interrupted-${process.pid}`;
    const interrupted = startNx('lab:boot-vm', marker, mkdtempSync(join(work, 'interrupted-')));
    runs.push(interrupted);
    await interrupted.waitFor(/\[lab\] Registered SAN device/);
    const stopped = await interrupt(interrupted);
    expect(stopped.code === 0 && stopped.signal === null).toBe(false);
    expect(qemuStartedWith(`IBFT_LAB_TEST_RUN=${marker}`)).toEqual([]);
    // QEMU's guestfwd relays to the appliance's portal run in their own session: they went with the initiator.
    const relays = () => processesMentioning(`nc 127.0.0.1 ${endpoint!.iscsiPort}`);
    for (const until = Date.now() + 10_000; relays().length && Date.now() < until; ) await new Promise((r) => setTimeout(r, 250));
    expect(relays()).toEqual([]);
    expect(qemuStartedWith(`IBFT_LAB_TEST_RUN=${keptMarker}`)).toEqual(keptQemu);
    expect(kept.child.exitCode).toBeNull();
    // And it still serves: the next run finds it configured.
    expect(await boot(3)).toMatch(/setup-target: 0 command\(s\)/);

    // Ctrl-C of the kept target-vm itself: its appliance stops and its endpoint file goes.
    await interrupt(kept);
    expect(qemuStartedWith(`IBFT_LAB_TEST_RUN=${keptMarker}`)).toEqual([]);
    expect(existsSync(ENDPOINT)).toBe(false);
  });
});
