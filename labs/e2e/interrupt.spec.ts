// Ctrl-C during `nx run lab:boot-vm`, at each phase: while the LIO appliance
// boots, while boot-vm applies the target beside the booting initiator, while the initiator boots. A user's
// Ctrl-C signals the terminal's foreground process group; here Nx runs
// detached (its own group) and the test sends SIGINT to that group. After each:
// Nx exits non-zero within a deadline, no QEMU is left, the appliance's
// endpoint file is gone, no ibft-lab-* temp folder is left. Nx runs with its own
// TMPDIR, so whatever it and its executors leave (QEMU argv, temp folders) is
// told apart from other runs on the machine.
import { stripVTControlCharacters } from 'node:util';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processAlive } from '@ibft-lab/cache';
import { processesInGroup, processesMentioning } from '../../tools/testing/processes';

const root = join(__dirname, '..', '..');
const NX = require.resolve('nx/bin/nx', { paths: [root] });
const ENDPOINT = join(root, 'dist', 'labs', 'lab', 'target', 'endpoint.json');
/** From spawn to the phase being reached (warm caches: 10 to 40 s). */
const PHASE_DEADLINE_MS = 150_000;
/** From SIGINT to Nx's exit. */
const EXIT_DEADLINE_MS = 60_000;
jest.setTimeout(PHASE_DEADLINE_MS + EXIT_DEADLINE_MS + 30_000);

function skipReason(): string | undefined {
  if (!existsSync('/usr/bin/qemu-system-x86_64')) return 'qemu-system-x86_64 is not installed (bash tools/setup)';
  if (!existsSync('/usr/lib/ipxe/qemu/pxe-rtl8139.rom')) return 'ipxe-qemu stock ROMs are missing (bash tools/setup)';
  return undefined;
}



/** Every live descendant of `pid` (pid and command line), from one `ps` listing. */
function descendantsOf(pid: number): { pid: number; args: string }[] {
  const rows = spawnSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3] }));
  const found: { pid: number; args: string }[] = [];
  const walk = (parent: number) => {
    for (const row of rows.filter((r) => r.ppid === parent)) {
      found.push({ pid: row.pid, args: row.args });
      walk(row.pid);
    }
  };
  walk(pid);
  return found;
}

/** Which of `processes` still run the same command (a reused pid does not count). */
function stillRunning(processes: { pid: number; args: string }[]): string[] {
  return processes
    .filter(({ pid, args }) => spawnSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim() === args.trim())
    .map(({ pid, args }) => `${pid} ${args.slice(0, 160)}`);
}

function processGroupOf(pid: number): number | undefined {
  const out = spawnSync('ps', ['-o', 'pgid=', '-p', String(pid)], { encoding: 'utf8' }).stdout.trim();
  return out ? Number(out) : undefined;
}

function readEndpoint(): { pid: number; iscsiPort: number } | undefined {
  try {
    return JSON.parse(readFileSync(ENDPOINT, 'utf8'));
  } catch {
    return undefined;
  }
}

interface Phase {
  name: string;
  /** How the run is ended: Ctrl-C (SIGINT to the process group, the default) or Nx killed outright. */
  kill?: 'nx-sigkill';
  /** QEMUs of the run that must be up for the phase to count (default 1). */
  qemus?: number;
  /** True once the output shows the phase; throws when the run went past it. */
  reached(output: string): boolean;
}

const READY = /^lab: ready$/m;
const phases: Phase[] = [
  {
    name: 'the LIO appliance starting (target-vm booting it or restoring its saved state, before ready)',
    reached(output) {
      if (READY.test(output)) throw new Error('the appliance was ready before its start was seen');
      return output.includes('> nx run lab:target-vm') && /^lab: (\[lio-appliance\] |LIO appliance: restoring its saved state)/m.test(output);
    },
  },
  {
    name: "boot-vm's overlapped start: the target's plan being applied while the initiator boots (its login held)",
    qemus: 2,
    reached: overlappedStart,
  },
  {
    name: "boot-vm's overlapped start, Nx killed outright (kill -9 of the nx process alone)",
    kill: 'nx-sigkill',
    qemus: 2,
    reached: overlappedStart,
  },
  {
    // After the phases above reached ready, the appliance has its saved state (it is saved before ready).
    name: "boot-vm's early start: the initiator booting while the appliance is restored from its saved state (before ready)",
    qemus: 2,
    reached(output) {
      if (READY.test(output)) throw new Error('the appliance was ready before the initiator was seen booting beside its restore');
      return output.includes('> nx run lab:boot-vm') && /^lab: LIO appliance: restoring its saved state/m.test(output);
    },
  },
  {
    name: 'boot-vm with the SAN device registered (Registered SAN device)',
    reached: sanDeviceRegistered,
  },
  {
    name: 'boot-vm with the SAN device registered, Nx killed outright (kill -9 of the nx process alone)',
    kill: 'nx-sigkill',
    reached: sanDeviceRegistered,
  },
];

function overlappedStart(output: string): boolean {
  if (/^lab: setup-target: wrote /m.test(output)) throw new Error('the target was set up before its apply was seen beside the initiator');
  return output.includes('> nx run lab:boot-vm') && READY.test(output) && /^lab: LIO plan: /m.test(output);
}

function sanDeviceRegistered(output: string): boolean {
  if (/lab:boot-vm: (PASS|FAIL)/.test(output)) throw new Error('boot-vm finished before the SAN device was seen');
  return output.includes('> nx run lab:boot-vm') && /^lab: \[lab\] Registered SAN device/m.test(output);
}

/** After kill -9 of Nx its executors notice their parent is gone (checked each second) and stop their VMs. */
const ORPHAN_GRACE_MS = 20_000;

const reason = skipReason();
if (reason) console.log(`interrupt e2e skipped: ${reason}`);

(reason ? describe.skip : describe)('interrupting nx run lab:boot-vm: Ctrl-C (SIGINT to the process group) at each phase, and Nx killed outright', () => {
  let work: string;
  const started: ChildProcess[] = [];
  const recorded: { pid: number; args: string }[] = [];

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'ibft-lab-e2e-interrupt-'));
  });

  afterAll(() => {
    // Whatever happened: nothing this test started outlives it.
    for (const child of started) {
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        // the group is gone
      }
    }
    for (const line of [...stillRunning(recorded), ...processesMentioning(work)]) {
      const pid = Number(line.split(' ')[0]);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    rmSync(work, { recursive: true, force: true });
  });

  it.each(phases.map((phase, i) => [phase.name, i] as const))('at %s: Nx exits non-zero, no QEMU, no endpoint file, no temp folder left', async (_name, index) => {
    const phase = phases[index];
    const existing = readEndpoint()?.pid;
    if (existing !== undefined && processAlive(existing)) {
      // Another run of the lab (another engineer's, a parallel suite) owns the
      // lab's dist folder right now: this test's checks would be about it.
      console.log(`skipping "${phase.name}": another run of lab holds ${ENDPOINT} (pid ${existing}); run this test alone`);
      return;
    }
    rmSync(ENDPOINT, { force: true }); // stale: its writer is dead

    const runTmp = mkdtempSync(join(work, `run${index}-`));
    const t0 = Date.now();
    const child = spawn(process.execPath, [NX, 'run', 'lab:boot-vm', '--outputStyle=stream'], {
      cwd: root,
      detached: true,
      env: { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true', TMPDIR: runTmp },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.push(child);
    const pgid = child.pid as number;
    let output = '';
    let raw = '';
    // Under CI=true Nx colours its output whatever the terminal; the triggers match plain text
    // (stripped as a whole: an escape sequence may be split across chunks).
    const take = (chunk: Buffer) => void ((raw += chunk.toString('utf8')), (output = stripVTControlCharacters(raw)));
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
    const tail = () => output.split('\n').filter((l) => !/^lab: \[lio-appliance\] \[/.test(l)).slice(-40).join('\n');

    // The phase's line can come before its QEMU is spawned ("restoring its saved state" is logged first).
    const qemusOfRun = () => processesMentioning(runTmp).filter((l) => l.includes('qemu-system-x86_64'));
    try {
      while (!(phase.reached(output) && qemusOfRun().length >= (phase.qemus ?? 1))) {
        if (Date.now() - t0 > PHASE_DEADLINE_MS) throw new Error(`the run did not reach "${phase.name}" within ${PHASE_DEADLINE_MS} ms:\n${tail()}`);
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`nx exited (${child.exitCode ?? child.signalCode}) before "${phase.name}":\n${tail()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const reachedAfter = Date.now() - t0;
      const ourEndpoint = readEndpoint();
      // Everything Nx started so far: executors, QEMUs, Nx's plugin worker (its own process group).
      const descendants = descendantsOf(pgid);
      recorded.push(...descendants);

      const signalledAt = Date.now();
      if (phase.kill === 'nx-sigkill') process.kill(pgid, 'SIGKILL');
      else process.kill(-pgid, 'SIGINT');
      let timer: NodeJS.Timeout | undefined;
      const result = await Promise.race([
        exited,
        new Promise<'deadline'>((r) => (timer = setTimeout(() => r('deadline'), EXIT_DEADLINE_MS))),
      ]);
      clearTimeout(timer);
      const exitMs = Date.now() - signalledAt;
      console.log(`${phase.name}: reached after ${(reachedAfter / 1000).toFixed(1)} s; nx exited ${JSON.stringify(result)} ${(exitMs / 1000).toFixed(1)} s after SIGINT`);
      if (result === 'deadline') throw new Error(`nx did not exit within ${EXIT_DEADLINE_MS} ms of SIGINT:\n${tail()}`);
      expect(result.code === 0 && result.signal === null).toBe(false);

      // Right at Nx's exit (after kill -9: within the executors' grace), nothing of this run may still run.
      const leftovers = () => [
        ...stillRunning(descendants),
        ...processesMentioning(runTmp),
        ...processesInGroup(pgid),
        // QEMU's guestfwd relays to the appliance's portal run in their own session, re-parented to init:
        // neither the group signal nor the descendant listing reaches them.
        ...(ourEndpoint ? processesMentioning(`nc 127.0.0.1 ${ourEndpoint.iscsiPort}`) : []),
      ];
      let found = leftovers();
      for (const until = Date.now() + (phase.kill === 'nx-sigkill' ? ORPHAN_GRACE_MS : 0); found.length && Date.now() < until; found = leftovers()) {
        await new Promise((r) => setTimeout(r, 500));
      }
      const leftAtExit = [...new Set(found.map((line) => line.slice(0, 200)))];
      expect({ phase: phase.name, leftAtExit }).toEqual({ phase: phase.name, leftAtExit: [] });
      expect(processesMentioning('ibft-lab-vm-').filter((l) => l.includes(runTmp))).toEqual([]);

      // The endpoint file went with the appliance (or, if it is there, it is another run's live one).
      const endpointPid = readEndpoint()?.pid;
      if (endpointPid !== undefined) {
        expect({ endpoint: ENDPOINT, pid: endpointPid, alive: processAlive(endpointPid), ours: endpointPid === ourEndpoint?.pid || processGroupOf(endpointPid) === pgid }).toEqual({
          endpoint: ENDPOINT,
          pid: endpointPid,
          alive: true,
          ours: false,
        });
      }
      // Only our folders count (swc-node and Nx keep their own caches there).
      expect(readdirSync(runTmp).filter((name) => name.startsWith('ibft-lab-'))).toEqual([]);
    } catch (error) {
      console.log(`output of the interrupted run (${phase.name}):\n${tail()}`);
      throw error;
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-pgid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      await exited;
    }
  });
});
