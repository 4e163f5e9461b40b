// A booted appliance saved to a file (QEMU migration through `zstd`), so the
// next start restores it in about a second instead of booting Linux, loading
// LIO and starting targetcli for the first time (10 to 30 s under TCG).
//
// The state is only valid for the exact machine it was taken from: the
// appliance image (its cache key also pins the SSH host key baked into it),
// the QEMU build and every device and its backing file. All of that is the
// entry's key; what changes per run (host ports of hostfwd, the serial file,
// the QMP socket) lives outside the guest and is not part of it.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureCacheEntry, withFileLock } from '@ibft-lab/cache';
import { findOnPath, QEMU_BINARY, startQemu, type QemuVm, type StartVmSpec } from '@ibft-lab/qemu-runner';

/** Bump when what the state assumes changes in a way the key does not see. */
const SAVED_STATE_VERSION = 2;
/**
 * zstd -1: a third of the raw stream's size (95 of 353 MB measured). Idle page cache does not stay on these
 * machines (DAMON pages it out within seconds), so each restore reads the state from disk: 0.9-1.3 s from the
 * compressed file against 1.7-3.0 s from the raw one (bench/README.md, boot-vm).
 */
export const SAVED_STATE_FILE = 'state.zst';

let qemuVersionLine: string | undefined;
function qemuVersion(): string {
  qemuVersionLine ??= execFileSync(QEMU_BINARY, ['--version'], { encoding: 'utf8' }).split('\n')[0].trim();
  return qemuVersionLine;
}

/** The device set as the guest sees it: per-run host ports and paths left out, backing files by identity. */
function guestVisibleSpec(spec: StartVmSpec): unknown {
  return {
    ...spec,
    serialFile: undefined,
    qmpSocket: undefined,
    // The kernel and initramfs are the appliance image's (its key names their bytes): where the cache lies
    // (IBFT_LAB_CACHE, a cache whose entries were linked in from another) does not change the guest.
    kernel: spec.kernel ? { ...spec.kernel, path: undefined, initrd: undefined } : undefined,
    nics: spec.nics.map((nic) => ({
      ...nic,
      netdev: nic.netdev.kind === 'user' ? { ...nic.netdev, hostForwards: (nic.netdev.hostForwards ?? []).map((f) => ({ guestPort: f.guestPort, protocol: f.protocol ?? 'tcp' })) } : nic.netdev,
    })),
    drives: (spec.drives ?? []).map((drive) => {
      const stat = statSync(drive.path);
      return { ...drive, size: stat.size, mtimeMs: stat.mtimeMs, ino: stat.ino };
    }),
  };
}

/** The cache entry that holds the saved state of `spec` booted from image `imageKey`. */
export function savedStatePath(cacheDir: string, imageKey: string, spec: StartVmSpec): string {
  const key = createHash('sha256')
    .update(JSON.stringify({ imageKey, qemu: qemuVersion(), spec: guestVisibleSpec(spec), SAVED_STATE_VERSION }))
    .digest('hex')
    .slice(0, 16);
  return join(cacheDir, 'lio-appliance-state', key);
}

/** Why no state can be saved or restored on this machine, if so: zstd carries it. */
export function savedStateUnavailable(): string | undefined {
  return findOnPath('zstd') ? undefined : 'zstd is not on PATH (bash tools/setup installs it)';
}

export function hasSavedState(entry: string): boolean {
  return existsSync(join(entry, SAVED_STATE_FILE));
}

/** For QEMU's `exec:` migration URIs, which /bin/sh runs. */
function shellQuote(path: string): string {
  return `'${path.replace(/'/g, `'\\''`)}'`;
}

async function waitForMigration(vm: QemuVm, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const info = await vm.qmp.execute<{ status?: string; 'error-desc'?: string }>('query-migrate');
    if (info.status === 'completed') return;
    if (info.status === 'failed' || info.status === 'cancelled') throw new Error(`migration ${info.status}: ${info['error-desc'] ?? 'no reason given'}`);
    if (Date.now() > deadline) throw new Error(`migration did not complete within ${deadlineMs} ms (status ${info.status})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Saves the running appliance into the entry (once: a parallel run that saved
 * it first wins) and lets it run on. The guest is paused only while its RAM is
 * written (a few seconds, once per key).
 */
export async function saveApplianceState(vm: QemuVm, entry: string, what: string, log: (line: string) => void): Promise<void> {
  await ensureCacheEntry({
    path: entry,
    what: `saved state of ${what}`,
    log,
    async build(staging) {
      await vm.qmp.execute('stop');
      try {
        await vm.qmp.execute('migrate', { uri: `exec:zstd -1 -q -T0 -o ${shellQuote(join(staging, SAVED_STATE_FILE))}` });
        await waitForMigration(vm, 180_000);
        writeFileSync(join(staging, 'qemu.txt'), `${qemuVersion()}\n${vm.argv.join(' ')}\n`);
      } finally {
        await vm.qmp.execute('cont');
      }
    },
  });
}

/**
 * Starts QEMU on `spec` and loads the saved state into it; resolves once the
 * guest runs again. Throws (QEMU stopped) when the state does not load.
 */
export async function restoreApplianceState(
  spec: StartVmSpec,
  entry: string,
  options: { log?: (line: string) => void; serialPrefix: string; signal?: AbortSignal; deadlineMs: number },
): Promise<QemuVm> {
  const vm = await startQemu({ ...spec, extraArgs: [...(spec.extraArgs ?? []), '-incoming', 'defer'] }, { log: options.log, serialPrefix: options.serialPrefix, signal: options.signal });
  try {
    await vm.qmp.execute('migrate-incoming', { uri: `exec:zstd -d -c -q ${shellQuote(join(entry, SAVED_STATE_FILE))}` });
    const deadline = Date.now() + options.deadlineMs;
    for (;;) {
      const status = await Promise.race([
        vm.qmp.execute<{ status: string }>('query-status'),
        vm.exited.then((e) => Promise.reject(new Error(`QEMU exited while loading the saved state (code ${e.code})`))),
      ]);
      if (status.status !== 'inmigrate') {
        if (status.status !== 'paused' && status.status !== 'running') throw new Error(`the saved state left the VM ${status.status}`);
        break;
      }
      if (Date.now() > deadline) throw new Error(`the saved state did not load within ${options.deadlineMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await vm.qmp.execute('cont');
    return vm;
  } catch (error) {
    await vm.stop();
    throw error;
  }
}

/** A state that would not restore is removed, so the next start saves a good one. */
export async function discardSavedState(entry: string): Promise<void> {
  await withFileLock(`${entry}.lock`, async () => {
    if (!existsSync(entry)) return;
    // A run restoring from it right now keeps its open file; the entry itself goes at once.
    const doomed = `${entry}.discarded-${process.pid}`;
    renameSync(entry, doomed);
    rmSync(doomed, { recursive: true, force: true });
  }, { what: 'discarding a saved appliance state' });
}
