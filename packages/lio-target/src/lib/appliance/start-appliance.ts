// Boots the LIO appliance under QEMU (TCG), publishing SSH and iSCSI on free
// host loopback ports, and returns once targetcli answers over SSH.
import { existsSync, statSync } from 'node:fs';
import { checkQemu, startQemu, withWritableCache, workspaceCacheDir, type ConsolePhase, type QemuVm } from '@ibft-lab/qemu-runner';
import { connectSsh, SshRefused, type Transport } from '../transport';
import { buildAppliance } from './build-appliance';
import type { ApplianceEndpoint } from './endpoint';
import { freeLoopbackPort } from './free-port';
import { APPLIANCE_READY_MARKER } from './init-script';
import { applianceSegmentMac, checkApplianceSegments, dnsmasqConfig, DNSMASQ_CONFIG_PATH, segmentSetupScript, type ApplianceSegment } from './segment-network';

export const APPLIANCE_SERIAL_PREFIX = '[lio-appliance] ';

/** The appliance's console as a person follows it (calmLog): kernel up, ready. */
export const APPLIANCE_PHASES: ConsolePhase[] = [
  { pattern: /Linux version (\S+)/, label: (m) => `Linux ${m[1]} booting` },
  { pattern: new RegExp(APPLIANCE_READY_MARKER), label: () => 'ready' },
];
export const APPLIANCE_ERRORS = [/Kernel panic/, /ibft-lab appliance: .*failed/, /Call Trace/];

/**
 * A disk image the appliance serves, e.g. as a `block` backstore. It is
 * attached copy-on-write (QEMU snapshot=on): writes from initiators land in a
 * throw-away overlay, the file itself is never written, and nothing of it is
 * copied into the appliance's RAM. The n-th disk is /dev/vda, /dev/vdb, …
 */
export interface ApplianceDisk {
  path: string;
  format: 'raw' | 'qcow2';
}

/** The appliance's device name for its n-th disk: /dev/vda, /dev/vdb, … */
export function applianceDiskDevice(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index > 25) throw new Error(`disks[${index}]: the appliance names at most 26 disks (/dev/vda to /dev/vdz)`);
  return `/dev/vd${String.fromCharCode(97 + index)}`;
}

export interface StartApplianceOptions {
  cacheDir?: string;
  /** Disk images attached copy-on-write as /dev/vda, /dev/vdb, … (in this order). */
  disks?: ApplianceDisk[];
  memoryMiB?: number;
  /**
   * Private L2 segments to initiators: one NIC each, on a QEMU socket netdev
   * listening on a free host loopback port (the initiator's NIC connects to
   * it), with the segment's address, VLAN and DHCP service. Default: none.
   */
  segments?: ApplianceSegment[];
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
  const disks = options.disks ?? [];
  disks.forEach((disk, i) => {
    applianceDiskDevice(i);
    if (!disk.path || !existsSync(disk.path) || !statSync(disk.path).isFile()) {
      throw new Error(`disks[${i}].path: ${disk.path || '(none)'} is not a file; give the path of a raw or qcow2 disk image`);
    }
    if (disk.format !== 'raw' && disk.format !== 'qcow2') throw new Error(`disks[${i}].format: use 'raw' or 'qcow2', not ${JSON.stringify(disk.format)}`);
  });
  const segments = options.segments ?? [];
  checkApplianceSegments(segments);
  const cacheDir = options.cacheDir ?? workspaceCacheDir();
  const image = await withWritableCache(cacheDir, () => buildAppliance({ cacheDir, log }));
  // A free port can be taken by another process before QEMU binds it (labs start
  // their appliances at once): QEMU then fails at once, and the next try takes new ports.
  let started: { vm: QemuVm; ports: AppliancePorts } | undefined;
  for (let attempt = 1; !started; attempt++) {
    const ports = await pickPorts(segments.length);
    try {
      const vm = await startQemu(
        {
          accel: 'tcg',
          memoryMiB: options.memoryMiB ?? 768,
          firmware: 'bios',
          kernel: { path: image.kernel.vmlinuz, initrd: image.initramfs, append: 'console=ttyS0 rdinit=/init panic=-1' },
          nics: [
            {
              model: 'virtio-net-pci',
              netdev: { kind: 'user', hostForwards: [{ hostPort: ports.ssh, guestPort: 22 }, { hostPort: ports.iscsi, guestPort: 3260 }] },
            },
            ...ports.segments.map((port, i) => ({ model: 'virtio-net-pci', mac: applianceSegmentMac(i), netdev: { kind: 'socket' as const, listen: `127.0.0.1:${port}` } })),
          ],
          drives: disks.map((disk) => ({ path: disk.path, format: disk.format, interface: 'virtio' as const, snapshot: true })),
        },
        { log, serialPrefix: APPLIANCE_SERIAL_PREFIX, signal: options.signal },
      );
      started = { vm, ports };
    } catch (error) {
      if (attempt >= 3 || !PORT_TAKEN.test((error as Error).message)) throw error;
      log(`a loopback port was taken before QEMU bound it; trying again with other ports (${(error as Error).message.split('\n').find((l) => PORT_TAKEN.test(l))?.trim()})`);
    }
  }
  const { vm, ports } = started;
  const sshPort = ports.ssh;
  const iscsiPort = ports.iscsi;
  const segmentPorts = ports.segments;
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
    ...(segments.length ? { segments: segments.map((segment, i) => ({ name: segment.name, ip: segment.ip, connect: `127.0.0.1:${segmentPorts[i]}` })) } : {}),
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
    if (segments.length) await bringUpSegments(connect, segments, log);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, vm, connect, stop };
}

interface AppliancePorts {
  ssh: number;
  iscsi: number;
  segments: number[];
}

const PORT_TAKEN = /Address already in use|Could not set up host forwarding rule/;

async function pickPorts(segmentCount: number): Promise<AppliancePorts> {
  const taken: number[] = [];
  const next = async () => {
    let port = await freeLoopbackPort();
    while (taken.includes(port)) port = await freeLoopbackPort();
    taken.push(port);
    return port;
  };
  const ssh = await next();
  const iscsi = await next();
  const segments: number[] = [];
  for (let i = 0; i < segmentCount; i++) segments.push(await next());
  return { ssh, iscsi, segments };
}

/** Addresses (and VLANs) before setup-target's portals bind to them; dnsmasq last. */
async function bringUpSegments(connect: () => Promise<Transport>, segments: ApplianceSegment[], log: (line: string) => void): Promise<void> {
  const t = await connect();
  try {
    const config = dnsmasqConfig(segments);
    if (config) await t.writeFile(DNSMASQ_CONFIG_PATH, config);
    const result = await t.run(['sh', '-s'], { stdin: segmentSetupScript(segments) });
    if (result.code !== 0) throw new Error(`the LIO appliance could not bring up its segments (exit ${result.code}): ${result.stderr.trim()}`);
    log(`segments up: ${segments.map((s) => `${s.name} ${s.ip}/${s.prefix}${s.vlan ? ` vlan ${s.vlan}` : ''}${s.dhcp ? ' dhcp' : ''}`).join(', ')}`);
  } finally {
    await t.close();
  }
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
