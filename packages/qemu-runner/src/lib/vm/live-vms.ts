// Process-wide registry of running VMs (and temp dirs that go with them): whatever ends this process (normal
// exit, SIGINT, SIGTERM), every QEMU it started is stopped and its temp dir
// removed. QEMU is also started under `setpriv --pdeathsig SIGKILL` when
// available, which covers the one case no handler can: this process being
// SIGKILLed.
import { rmSync } from 'node:fs';

export interface LiveVm {
  // Also used for plain temp dirs (registerTempDir).
  /** Graceful, async stop (QMP quit, then signals), then temp dir removal. */
  stop(): Promise<void>;
  /** Last-resort synchronous stop for process 'exit': SIGKILL and rmSync. */
  killNow(): void;
}

const live = new Set<LiveVm>();
let installed = false;
let stoppingForSignal = false;

function onExit(): void {
  for (const vm of live) vm.killNow();
  live.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  if (stoppingForSignal) return;
  stoppingForSignal = true;
  const all = [...live].map((vm) => vm.stop().catch(() => vm.killNow()));
  void Promise.all(all).finally(() => {
    uninstall();
    // Only re-raise when nobody else handles the signal (Nx, Jest, a CLI):
    // then the process dies of it, as it would have without us.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    stoppingForSignal = false;
  });
}

const onSigint = () => onSignal('SIGINT');
const onSigterm = () => onSignal('SIGTERM');

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', onExit);
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.off('exit', onExit);
  process.off('SIGINT', onSigint);
  process.off('SIGTERM', onSigterm);
}

export function registerLiveVm(vm: LiveVm): void {
  live.add(vm);
  install();
}

export function unregisterLiveVm(vm: LiveVm): void {
  live.delete(vm);
  if (live.size === 0 && !stoppingForSignal) uninstall();
}

export function liveVmCount(): number {
  return live.size;
}

/**
 * Removes `dir` on process exit or SIGINT/SIGTERM unless released first; for
 * temp folders that live beside a VM (e.g. a TFTP root). Returns the release.
 */
export function registerTempDir(dir: string): () => void {
  const remove = () => rmSync(dir, { recursive: true, force: true });
  const resource: LiveVm = { stop: async () => remove(), killNow: remove };
  registerLiveVm(resource);
  return () => {
    remove();
    unregisterLiveVm(resource);
  };
}

/**
 * Calls `onGone` once this process's parent has died (it is re-parented).
 * A runner killed outright (kill -9) sends its children no signal; this is
 * how an executor it started notices. Returns the stop function.
 */
export function whenParentGone(onGone: () => void, everyMs = 1000): () => void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onGone();
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
