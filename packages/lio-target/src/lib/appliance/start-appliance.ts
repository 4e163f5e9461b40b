// Boots the LIO appliance under QEMU (TCG), publishing SSH and iSCSI on free
// host loopback ports, and returns once targetcli answers over SSH.
import { checkQemu, startQemu, withWritableCache, workspaceCacheDir, type ConsolePhase, type QemuVm } from '@ibft-lab/qemu-runner';
import { connectSsh, SshRefused, type Transport } from '../transport';
import { buildAppliance } from './build-appliance';
import type { ApplianceEndpoint } from './endpoint';
import { freeLoopbackPort } from './free-port';
import { APPLIANCE_READY_MARKER } from './init-script';

export const APPLIANCE_SERIAL_PREFIX = '[lio-appliance] ';

/** The appliance's console as a person follows it (calmLog): kernel up, ready. */
export const APPLIANCE_PHASES: ConsolePhase[] = [
  { pattern: /Linux version (\S+)/, label: (m) => `Linux ${m[1]} booting` },
  { pattern: new RegExp(APPLIANCE_READY_MARKER), label: () => 'ready' },
];
export const APPLIANCE_ERRORS = [/Kernel panic/, /ibft-lab appliance: .*failed/, /Call Trace/];

export interface StartApplianceOptions {
  cacheDir?: string;
  memoryMiB?: number;
  /** How long boot + first targetcli answer may take. */
  readyDeadlineMs?: number;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface RunningAppliance {
  endpoint: ApplianceEndpoint;
  vm: QemuVm;
  /** An open SSH transport to the appliance (closed by stop()). */
  connect(): Promise<Transport>;
  stop(): Promise<void>;
}

export async function startAppliance(options: StartApplianceOptions = {}): Promise<RunningAppliance> {
  const log = options.log ?? (() => undefined);
  const deadlineMs = options.readyDeadlineMs ?? 240_000;
  const deadline = Date.now() + deadlineMs;
  // Say what is missing before minutes of image building, not after.
  checkQemu();
  const cacheDir = options.cacheDir ?? workspaceCacheDir();
  const image = await withWritableCache(cacheDir, () => buildAppliance({ cacheDir, log }));
  const sshPort = await freeLoopbackPort();
  let iscsiPort = await freeLoopbackPort();
  while (iscsiPort === sshPort) iscsiPort = await freeLoopbackPort();
  const vm = await startQemu(
    {
      accel: 'tcg',
      memoryMiB: options.memoryMiB ?? 768,
      firmware: 'bios',
      kernel: { path: image.kernel.vmlinuz, initrd: image.initramfs, append: 'console=ttyS0 rdinit=/init panic=-1' },
      nics: [
        {
          model: 'virtio-net-pci',
          netdev: { kind: 'user', hostForwards: [{ hostPort: sshPort, guestPort: 22 }, { hostPort: iscsiPort, guestPort: 3260 }] },
        },
      ],
    },
    { log, serialPrefix: APPLIANCE_SERIAL_PREFIX, signal: options.signal },
  );
  const endpoint: ApplianceEndpoint = {
    host: '127.0.0.1',
    sshPort,
    iscsiPort,
    user: 'root',
    privateKeyPath: image.clientKeyPath,
    hostKeyFingerprint: image.hostKeyFingerprint,
    guestPortal: { ip: '10.0.2.2', port: iscsiPort },
    pid: process.pid,
    startedAt: new Date().toISOString(),
  };
  const transports: Transport[] = [];
  const connect = async () => {
    const t = await connectSsh({
      host: endpoint.host,
      port: endpoint.sshPort,
      user: endpoint.user,
      privateKeyPath: endpoint.privateKeyPath,
      hostKeyFingerprint: endpoint.hostKeyFingerprint,
    });
    transports.push(t);
    return t;
  };
  const stop = async () => {
    await Promise.all(transports.map((t) => t.close().catch(() => undefined)));
    await vm.stop();
  };
  try {
    await vm.waitForSerial(APPLIANCE_READY_MARKER, {
      deadlineMs: Math.max(1000, deadline - Date.now()),
      failOn: [/Kernel panic/, /ibft-lab appliance: (dropbear|dbus-daemon) failed/],
    });
    await waitForTargetcli(connect, deadline, log, image.dir);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, vm, connect, stop };
}

/** Waits only while the appliance is not listening yet; a refusal fails at once. */
async function waitForTargetcli(connect: () => Promise<Transport>, deadline: number, log: (line: string) => void, imageDir: string): Promise<void> {
  let last = '';
  while (Date.now() < deadline) {
    try {
      const t = await connect();
      try {
        const result = await t.run(['targetcli', 'ls', '/', '1']);
        if (result.code === 0) return;
        last = `targetcli exit ${result.code}: ${result.stderr.trim()}`;
      } finally {
        await t.close();
      }
    } catch (error) {
      if (error instanceof SshRefused) throw refusedByAppliance(error, imageDir);
      last = (error as Error).message;
    }
    log(`waiting for targetcli over SSH: ${last}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`the LIO appliance did not answer targetcli over SSH in time: ${last}`);
}

/** The appliance's keys live in its cache entry: a refusal means that entry is not what booted. */
export function refusedByAppliance(error: SshRefused, imageDir: string): SshRefused {
  return new SshRefused(
    `the LIO appliance refused SSH: ${error.message}. Its image and keys are the cache entry ${imageDir}; if it was changed by hand, remove that folder and run again to rebuild it`,
    { cause: error },
  );
}
