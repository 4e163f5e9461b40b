// Starts one QEMU guest and owns its whole life: temp dir, serial console,
// QMP connection, deadline, abort signal, and a stop that always cleans up.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { QEMU_BINARY, buildQemuArgv } from './qemu-argv';
import { registerLiveVm, unregisterLiveVm, type LiveVm } from './live-vms';
import { QmpClient, withTimeout } from './qmp-client';
import { SerialConsole } from './serial-console';
import type { UefiFirmwarePaths, VmSpec } from './vm-spec';

/** Where Debian's `ovmf` package installs the UEFI firmware (4 MiB flash layout). */
export const OVMF_CANDIDATES: UefiFirmwarePaths[] = [
  { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.fd' },
  { code: '/usr/share/OVMF/OVMF_CODE.fd', vars: '/usr/share/OVMF/OVMF_VARS.fd' },
];

export function findOvmf(): UefiFirmwarePaths {
  const found = OVMF_CANDIDATES.find((c) => existsSync(c.code) && existsSync(c.vars));
  if (!found) throw new Error('firmware uefi: OVMF not found in /usr/share/OVMF; install Debian package `ovmf` (tools/setup)');
  return found;
}

/** The VmSpec fields startQemu fills in itself when absent. */
export type StartVmSpec = Omit<VmSpec, 'serialFile' | 'qmpSocket'> & Partial<Pick<VmSpec, 'serialFile' | 'qmpSocket'>>;

export interface StartQemuOptions {
  /** Receives every serial console line (ANSI removed), already prefixed. */
  log?: (line: string) => void;
  serialPrefix?: string;
  /** Lifetime limit: when it passes, the VM is stopped and waiters fail with a timeout. */
  deadlineMs?: number;
  /** Aborting stops the VM. */
  signal?: AbortSignal;
}

export interface WaitForSerialOptions {
  /** How long to wait (ms) before failing. */
  deadlineMs: number;
  /** Lines that mean the boot failed; the first match fails the wait at once. */
  failOn?: RegExp[];
  /** Only look at serial text after this offset (into serialText()). */
  from?: number;
}

export interface QemuVm {
  pid: number;
  tempDir: string;
  argv: string[];
  /** Date.now() just before spawning QEMU. */
  startedAt: number;
  qmp: QmpClient;
  /** Serial console so far, plain text (ANSI escapes and \r removed). */
  serialText(): string;
  waitForSerial(pattern: RegExp | string, options: WaitForSerialOptions): Promise<RegExpMatchArray>;
  /** Dumps guest physical memory [address, address+size) over QMP and returns it. */
  readGuestMemory(address: number, size: number): Promise<Buffer>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

export class SerialFailure extends Error {
  constructor(
    message: string,
    readonly line: string,
    readonly errorUrl?: string,
  ) {
    super(message);
    this.name = 'SerialFailure';
  }
}

export class VmTimeout extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VmTimeout';
  }
}

/**
 * The oldest QEMU we accept. What sets it: `accel: 'auto'` passes
 * `-accel kvm -accel tcg`, which QEMU tries in order only since 5.0 (before,
 * the options were merged and the last one silently won). Everything else we
 * pass is older: guestfwd `cmd:`, hostfwd, `bootindex`, `-qmp ...,server=on,wait=off`,
 * QMP `pmemsave`/`stop`/`cont`/`quit`, SeaBIOS serial console with -nographic (2.11).
 * Debian 12 ships 7.2.
 */
export const MIN_QEMU_VERSION: readonly [number, number, number] = [5, 0, 0];
const QEMU_FIX = 'install Debian package qemu-system-x86 (bash tools/setup)';

/** [major, minor, micro] from `qemu-system-x86_64 --version` output. */
export function parseQemuVersion(text: string): [number, number, number] | undefined {
  const m = /QEMU emulator version (\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}

/** The first executable file `name` on PATH, as a shell would find it. */
export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

const checkedQemu = new Map<string, string>();

/**
 * Throws, naming the cause and the fix, when the QEMU that spawn would run is
 * missing or older than MIN_QEMU_VERSION. Called before anything is created:
 * without it a missing QEMU surfaced as "spawn qemu-system-x86_64 ENOENT" after
 * a failed QMP connect, and an old one as whatever option it choked on.
 */
export function checkQemu(): void {
  const path = findOnPath(QEMU_BINARY);
  if (!path) throw new Error(`${QEMU_BINARY} not found on PATH (${process.env.PATH ?? ''}); ${QEMU_FIX}`);
  const stat = statSync(path);
  const key = `${path}:${stat.mtimeMs}:${stat.size}`;
  if (checkedQemu.has(key)) return;
  const run = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  const version = parseQemuVersion(`${run.stdout ?? ''}`);
  if (!version) {
    throw new Error(`${path} --version did not say which QEMU it is (${(run.error?.message ?? `${run.stdout ?? ''}${run.stderr ?? ''}`).trim().slice(0, 200)}); ${QEMU_FIX}`);
  }
  const older = version.findIndex((part, i) => part !== MIN_QEMU_VERSION[i]);
  if (older >= 0 && version[older] < MIN_QEMU_VERSION[older]) {
    throw new Error(
      `${path} is QEMU ${version.join('.')}, older than ${MIN_QEMU_VERSION[0]}.${MIN_QEMU_VERSION[1]}, the oldest ibft-lab runs (Debian 12 ships 7.2); ${QEMU_FIX}, or put a newer ${QEMU_BINARY} first on PATH`,
    );
  }
  checkedQemu.set(key, version.join('.'));
}

let setprivWorks: boolean | undefined;
function pdeathsigPrefix(): string[] {
  // setpriv execs QEMU in place (same pid) with "SIGKILL me when my parent dies".
  setprivWorks ??= spawnSync('setpriv', ['--pdeathsig', 'SIGKILL', 'true'], { stdio: 'ignore' }).status === 0;
  return setprivWorks ? ['setpriv', '--pdeathsig', 'SIGKILL'] : [];
}

const IPXE_ERROR_URL = /https?:\/\/ipxe\.org\/[0-9a-f]{8}/;

export async function startQemu(input: StartVmSpec, options: StartQemuOptions = {}): Promise<QemuVm> {
  checkQemu();
  const tempDir = mkdtempSync(join(tmpdir(), 'ibft-lab-vm-'));
  const removeTempDir = () => rmSync(tempDir, { recursive: true, force: true });
  let spec: VmSpec;
  let argv: string[];
  try {
    let uefi = input.uefi;
    if ((input.firmware ?? 'bios') === 'uefi') {
      const source = uefi ?? findOvmf();
      // OVMF writes its variable store: every run gets its own copy.
      const vars = join(tempDir, 'OVMF_VARS.fd');
      copyFileSync(source.vars, vars);
      uefi = { code: source.code, vars };
    }
    spec = {
      ...input,
      uefi,
      serialFile: input.serialFile ?? join(tempDir, 'serial.log'),
      qmpSocket: input.qmpSocket ?? join(tempDir, 'qmp.sock'),
    };
    argv = buildQemuArgv(spec);
  } catch (error) {
    removeTempDir();
    throw error;
  }

  const prefix = options.serialPrefix ?? '';
  const serial = new SerialConsole(spec.serialFile, options.log ? (line) => options.log?.(`${prefix}${line}`) : undefined);
  const launcher = pdeathsigPrefix();
  const startedAt = Date.now();
  const child: ChildProcess = spawn(launcher[0] ?? QEMU_BINARY, [...launcher.slice(1), ...(launcher.length ? [QEMU_BINARY] : []), ...argv], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
    child.once('error', (error) => {
      output += `\n${error.message}`;
      exitInfo = { code: -1, signal: null };
      resolve(exitInfo);
    });
  });
  const isAlive = () => exitInfo === undefined;
  serial.start();

  let timeoutReason: string | undefined;
  let stopping: Promise<void> | undefined;
  let qmp: QmpClient | undefined;
  const exitWaiters = new Set<(error: Error) => void>();

  const killNow = () => {
    if (isAlive()) child.kill('SIGKILL');
    serial.stop();
    removeTempDir();
  };

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      try {
        if (isAlive() && qmp) {
          await withTimeout(qmp.quit(), 2000, 'QMP quit').catch(() => undefined);
        }
        const exitWithin = (ms: number) => withTimeout(exited, ms, 'QEMU exit').catch(() => undefined);
        if (isAlive()) await exitWithin(2000);
        if (isAlive()) {
          child.kill('SIGTERM');
          await exitWithin(3000);
        }
        if (isAlive()) {
          child.kill('SIGKILL');
          await exitWithin(5000);
        }
      } finally {
        qmp?.close();
        serial.stop();
        removeTempDir();
        clearTimeout(deadlineTimer);
        options.signal?.removeEventListener('abort', onAbort);
        unregisterLiveVm(liveVm);
      }
    })();
    return stopping;
  };
  const liveVm: LiveVm = { stop, killNow };
  registerLiveVm(liveVm);

  const deadlineTimer = options.deadlineMs
    ? setTimeout(() => {
        timeoutReason = `VM deadline of ${options.deadlineMs} ms passed`;
        for (const fail of exitWaiters) fail(new VmTimeout(timeoutReason));
        void stop();
      }, options.deadlineMs)
    : undefined;
  deadlineTimer?.unref();
  const onAbort = () => {
    timeoutReason = 'aborted';
    for (const fail of exitWaiters) fail(new Error('VM run aborted'));
    void stop();
  };
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort);

  void exited.then((info) => {
    serial.poll();
    const reason = `QEMU exited (code ${info.code}, signal ${info.signal})${output.trim() ? `: ${output.trim()}` : ''}`;
    for (const fail of exitWaiters) fail(new Error(reason));
  });

  try {
    qmp = await QmpClient.connect(spec.qmpSocket, { timeoutMs: 15_000, isAlive });
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}${output.trim() ? `\nQEMU said: ${output.trim()}` : ''}\nargv: ${argv.join(' ')}`);
  }

  const waitForSerial = (pattern: RegExp | string, wait: WaitForSerialOptions): Promise<RegExpMatchArray> =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const from = wait.from ?? 0;
      let settled = false;
      let unsubscribe = () => {};
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        unsubscribe();
        exitWaiters.delete(onVmEnd);
        fn();
      };
      const fail = (error: Error) => finish(() => reject(error));
      // A guest that dies right after its failure line (a panic with -no-reboot) must fail on
      // that line, not on its exit: look at the last text once more, without the grace wait.
      const onVmEnd = (error: Error) => {
        check(true);
        fail(error);
      };
      // The firmware console wraps at 80 columns, so iPXE's error URL may come
      // on the next line, a moment later: a failure waits briefly for it.
      let failureGraceUntil: number | undefined;
      const check = (final = false) => {
        if (settled) return;
        const text = serial.text().slice(from);
        const match = typeof pattern === 'string' ? matchString(text, pattern) : pattern.exec(text);
        // An error printed before the marker wins; what the firmware prints
        // after it (e.g. falling back to its shell after `exit`) does not.
        // Only complete lines count.
        const complete = text.slice(0, text.lastIndexOf('\n') + 1);
        for (const bad of wait.failOn ?? []) {
          const found = bad.exec(complete);
          if (!found || (match && (found.index ?? 0) > (match.index ?? 0))) continue;
          const lineStart = text.lastIndexOf('\n', found.index) + 1;
          const lineEnd = text.indexOf('\n', found.index);
          const line = text.slice(lineStart, lineEnd < 0 ? undefined : lineEnd).trim();
          const url = IPXE_ERROR_URL.exec(text.slice(lineStart, lineStart + 400).replace(/\n/g, ''))?.[0];
          if (!url && !final) {
            failureGraceUntil ??= Date.now() + 1000;
            setTimeout(() => check(Date.now() >= (failureGraceUntil as number)), 250).unref();
            return;
          }
          fail(new SerialFailure(`boot failed: ${line}${url && !line.includes(url) ? ` (${url})` : ''}`, line, url));
          return;
        }
        if (match) finish(() => resolve(match));
      };
      const timer = setTimeout(
        () => fail(new VmTimeout(`no ${String(pattern)} on the serial console within ${wait.deadlineMs} ms`)),
        wait.deadlineMs,
      );
      unsubscribe = serial.onText(() => check());
      exitWaiters.add(onVmEnd);
      check();
      if (!settled && timeoutReason) fail(new VmTimeout(timeoutReason));
      else if (!settled && !isAlive()) fail(new Error(`QEMU already exited (code ${exitInfo?.code})`));
    });

  const readGuestMemory = async (address: number, size: number): Promise<Buffer> => {
    const file = join(tempDir, `mem-${address.toString(16)}-${size.toString(16)}.bin`);
    await (qmp as QmpClient).pmemsave(address, size, file);
    const bytes = readFileSync(file);
    rmSync(file, { force: true });
    return bytes;
  };

  return {
    pid: child.pid ?? -1,
    tempDir,
    argv: [QEMU_BINARY, ...argv],
    startedAt,
    qmp,
    serialText: () => serial.text(),
    waitForSerial,
    readGuestMemory,
    exited,
    stop,
  };
}

function matchString(text: string, needle: string): RegExpMatchArray | null {
  const index = text.indexOf(needle);
  if (index < 0) return null;
  const match = [needle] as unknown as RegExpMatchArray;
  match.index = index;
  match.input = text;
  return match;
}
