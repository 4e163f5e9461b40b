// Boots the LIO appliance under QEMU (TCG), publishing SSH and iSCSI on free
// host loopback ports, and returns once its LIO agent (its warm targetcli)
// answers over SSH. A booted
// appliance is saved once (saved-state.ts) and later starts restore it: about
// a second instead of a boot, falling back to the boot when the state fails.
import { existsSync, statSync } from 'node:fs';
import { checkQemu, startQemu, withWritableCache, workspaceCacheDir, type ConsolePhase, type QemuVm, type StartVmSpec } from '@ibft-lab/qemu-runner';
import { askLioAgent, LioAgentUnreachable } from '../lio-agent-client';
import { connectSsh, SshRefused, withLioAgent, type Transport } from '../transport';
import { buildAppliance } from './build-appliance';
import { endpointSshOptions, type ApplianceEndpoint } from './endpoint';
import { checkPortFree, freeLoopbackPort } from './free-port';
import { APPLIANCE_READY_MARKER } from './init-script';
import { LIO_AGENT_PORT } from './lio-agent';
import { discardSavedState, hasSavedState, restoreApplianceState, saveApplianceState, savedStatePath, savedStateUnavailable } from './saved-state';
import { applianceSegmentMac, checkApplianceSegments, dnsmasqConfig, DNSMASQ_CONFIG_PATH, segmentSetupScript, type ApplianceSegment } from './segment-network';

export const APPLIANCE_SERIAL_PREFIX = '[lio-appliance] ';

/** What a restored appliance writes to its console once it answered SSH (it has no boot to show). */
export const APPLIANCE_RESTORED_MARKER = 'ibft-lab appliance: restored';

/** The appliance's console as a person follows it (calmLog): kernel up, ready. */
export const APPLIANCE_PHASES: ConsolePhase[] = [
  { pattern: /Linux version (\S+)/, label: (m) => `Linux ${m[1]} booting` },
  { pattern: new RegExp(APPLIANCE_READY_MARKER), label: () => 'ready' },
  { pattern: new RegExp(APPLIANCE_RESTORED_MARKER), label: () => 'restored from its saved state, ready' },
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
   * The host loopback port the appliance's iSCSI portal is published on; default a free one.
   * A fixed port lets initiators reach it at 10.0.2.2:<port> with a script written before the appliance runs.
   */
  iscsiPort?: number;
  /**
   * Private L2 segments to initiators: one NIC each, on a QEMU socket netdev
   * listening on a free host loopback port (the initiator's NIC connects to
   * it), with the segment's address, VLAN and DHCP service. Default: none.
   */
  segments?: ApplianceSegment[];
  /** How long boot + first targetcli answer may take (counted once the appliance image is there: built, or waited for). */
  readyDeadlineMs?: number;
  log?: (line: string) => void;
  signal?: AbortSignal;
  /**
   * Restore the appliance from its saved state (default true), saving it after
   * a cold boot when there is none yet; false always boots it.
   */
  savedState?: boolean;
  /** Called when the start restores a saved state (the appliance answers within seconds), before QEMU starts. */
  onRestoring?: () => void;
}

export interface RunningAppliance {
  endpoint: ApplianceEndpoint;
  vm: QemuVm;
  /** 'restored' from the saved state, or 'booted' (and then saved, when savedState allows). */
  start: 'restored' | 'booted';
  /** An open SSH transport to the appliance (closed by stop()). */
  connect(): Promise<Transport>;
  stop(): Promise<void>;
}

export async function startAppliance(options: StartApplianceOptions = {}): Promise<RunningAppliance> {
  const log = options.log ?? (() => undefined);
  const deadlineMs = options.readyDeadlineMs ?? 240_000;
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
  // A fixed port that is taken fails now, naming it, not as a QEMU hostfwd error after the image build.
  if (options.iscsiPort !== undefined) await checkPortFree(options.iscsiPort);
  const segments = options.segments ?? [];
  checkApplianceSegments(segments);
  const cacheDir = options.cacheDir ?? workspaceCacheDir();
  const image = await withWritableCache(cacheDir, () => buildAppliance({ cacheDir, log }));
  // The deadline bounds this appliance's boot, from here: several labs on a cold cache wait for one build
  // (ensureCacheEntry, which takes over from a dead builder), and the last of them must not lose its boot time to it.
  const deadline = Date.now() + deadlineMs;
  const specFor = (ports: AppliancePorts): StartVmSpec => ({
    // no_timer_check: on 2 cores shared by several VMs, Linux's IO-APIC timer check can miss its ticks and panic.
    // init_on_free=1: freed pages are zeroed, so the saved state carries them as zero pages, not as the
    // leftovers of the unpacked initramfs archive (which zstd cannot shrink).
    accel: 'tcg',
    memoryMiB: options.memoryMiB ?? 768,
    firmware: 'bios',
    kernel: { path: image.kernel.vmlinuz, initrd: image.initramfs, append: 'console=ttyS0 rdinit=/init panic=-1 no_timer_check init_on_free=1' },
    nics: [
      {
        model: 'virtio-net-pci',
        netdev: { kind: 'user', hostForwards: [{ hostPort: ports.ssh, guestPort: 22 }, { hostPort: ports.iscsi, guestPort: 3260 }] },
      },
      ...ports.segments.map((port, i) => ({ model: 'virtio-net-pci', mac: applianceSegmentMac(i), netdev: { kind: 'socket' as const, listen: `127.0.0.1:${port}` } })),
    ],
    drives: disks.map((disk) => ({ path: disk.path, format: disk.format, interface: 'virtio' as const, snapshot: true })),
  });
  const endpointFor = (ports: AppliancePorts): ApplianceEndpoint => ({
    host: '127.0.0.1',
    sshPort: ports.ssh,
    iscsiPort: ports.iscsi,
    user: 'root',
    privateKeyPath: image.clientKeyPath,
    hostKeyFingerprint: image.hostKeyFingerprint,
    guestPortal: { ip: '10.0.2.2', port: ports.iscsi },
    lioAgentPort: LIO_AGENT_PORT,
    pid: process.pid,
    startedAt: new Date().toISOString(),
    ...(segments.length ? { segments: segments.map((segment, i) => ({ name: segment.name, ip: segment.ip, connect: `127.0.0.1:${ports.segments[i]}` })) } : {}),
  });
  let ports = await pickPorts(segments.length, options.iscsiPort);
  let spec = specFor(ports);
  let endpoint = endpointFor(ports);
  const transports: Transport[] = [];
  const connect = async () => {
    const t = withLioAgent(await connectSsh(endpointSshOptions(endpoint)), LIO_AGENT_PORT);
    transports.push(t);
    return t;
  };
  const running = (vm: QemuVm, start: RunningAppliance['start']): RunningAppliance => ({
    endpoint,
    vm,
    start,
    connect,
    stop: async () => {
      await Promise.all(transports.map((t) => t.close().catch(() => undefined)));
      await vm.stop();
    },
  });

  // A segment's socket netdev listens on a port of this run, which a saved state would have to match:
  // an appliance with segments always boots (and is not saved).
  const stateWanted = options.savedState !== false && !segments.length;
  const stateTool = stateWanted ? savedStateUnavailable() : undefined;
  if (stateTool) log(`LIO appliance: booting it without a saved state: ${stateTool}`);
  const stateEntry = stateWanted && !stateTool ? savedStatePath(cacheDir, image.key, spec) : undefined;
  if (stateEntry && hasSavedState(stateEntry)) {
    let vm: QemuVm | undefined;
    log('LIO appliance: restoring its saved state');
    options.onRestoring?.();
    try {
      vm = await restoreApplianceState(spec, stateEntry, { log, serialPrefix: APPLIANCE_SERIAL_PREFIX, signal: options.signal, deadlineMs: 60_000 });
      await declaredReady(connect, Math.min(deadline, Date.now() + 30_000));
      return running(vm, 'restored');
    } catch (error) {
      await vm?.stop();
      await Promise.all(transports.splice(0).map((t) => t.close().catch(() => undefined)));
      if (options.signal?.aborted) throw error;
      if (error instanceof SshRefused) throw refusedByAppliance(error, image.dir);
      log(`LIO appliance: its saved state did not restore (${(error as Error).message}); booting it and saving it again`);
      await discardSavedState(stateEntry);
    }
  }

  // A free port can be taken by another process before QEMU binds it (labs start their appliances at
  // once: seen in the labs e2e); QEMU then fails at once, and the next try takes other ports.
  let vm: QemuVm | undefined;
  for (let attempt = 1; !vm; attempt++) {
    try {
      vm = await startQemu(spec, { log, serialPrefix: APPLIANCE_SERIAL_PREFIX, signal: options.signal });
    } catch (error) {
      const taken = (error as Error).message.split('\n').find((line) => PORT_TAKEN.test(line));
      if (attempt >= 3 || !taken) throw error;
      log(`a loopback port was taken before QEMU bound it; trying again with other ports (${taken.trim()})`);
      ports = await pickPorts(segments.length, options.iscsiPort);
      spec = specFor(ports);
      endpoint = endpointFor(ports);
    }
  }
  const appliance = running(vm, 'booted');
  try {
    await vm.waitForSerial(APPLIANCE_READY_MARKER, {
      deadlineMs: Math.max(1000, deadline - Date.now()),
      failOn: [/Kernel panic/, /ibft-lab appliance: (dropbear|dbus-daemon) failed/],
    });
    await waitForLioAgent(connect, deadline, log, image.dir);
    await Promise.all(transports.splice(0).map((t) => t.close().catch(() => undefined)));
    if (stateEntry) {
      // Worth a few seconds once; a state that cannot be saved costs the next run a boot, not this one its target.
      await saveApplianceState(vm, stateEntry, `LIO appliance ${image.key}`, log).catch((error: Error) => log(`LIO appliance: not saved for next time: ${error.message}`));
    }
    if (segments.length) await bringUpSegments(connect, segments, log);
  } catch (error) {
    await appliance.stop();
    throw error;
  }
  return appliance;
}

/**
 * A restored guest has nothing left to print: it declares itself ready by
 * answering over SSH with the cached host key, and takes the host's clock
 * there (its own stopped when the state was saved).
 */
async function declaredReady(connect: () => Promise<Transport>, deadline: number): Promise<void> {
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const t = await connect();
      try {
        const result = await t.run(['sh', '-c', `date -u -s "@$1" >/dev/null && echo "${APPLIANCE_RESTORED_MARKER}" > /dev/console`, 'sh', String(Math.round(Date.now() / 1000))]);
        if (result.code !== 0) throw new Error(`date -s exit ${result.code}: ${result.stderr.trim()}`);
        return;
      } finally {
        await t.close();
      }
    } catch (error) {
      if (error instanceof SshRefused) throw error;
      last = error;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`no SSH answer after the restore: ${(last as Error)?.message ?? 'none in time'}`);
}

interface AppliancePorts {
  ssh: number;
  iscsi: number;
  segments: number[];
}

const PORT_TAKEN = /Address already in use|Could not set up host forwarding rule/;

/** Distinct free loopback ports: SSH, iSCSI (the fixed one when given), one per segment. */
async function pickPorts(segmentCount: number, fixedIscsi?: number): Promise<AppliancePorts> {
  const taken: number[] = fixedIscsi === undefined ? [] : [fixedIscsi];
  const next = async () => {
    let port = await freeLoopbackPort();
    while (taken.includes(port)) port = await freeLoopbackPort();
    taken.push(port);
    return port;
  };
  const ssh = await next();
  const iscsi = fixedIscsi ?? (await next());
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

/**
 * Waits only while the appliance is not listening yet (SSH, then its LIO
 * agent, which imports targetcli while the appliance boots); a refusal fails at once.
 */
async function waitForLioAgent(connect: () => Promise<Transport>, deadline: number, log: (line: string) => void, imageDir: string): Promise<void> {
  let last = '';
  const since = Date.now();
  let saidAt = since;
  // One connection asked again while the agent is not listening yet: each new SSH handshake would take the
  // guest's one vCPU from the agent's own import. Made anew after any other failure, and every few seconds
  // (a connection that died says so only as "not reachable").
  let t: Transport | undefined;
  let triesOnIt = 0;
  const drop = async () => {
    await t?.close().catch(() => undefined);
    t = undefined;
  };
  try {
    while (Date.now() < deadline) {
      try {
        if (!t || triesOnIt >= 8) {
          await drop();
          t = await connect();
          triesOnIt = 0;
        }
        triesOnIt += 1;
        await askLioAgent(t, { op: 'ping' }, 10_000);
        return;
      } catch (error) {
        if (error instanceof SshRefused) throw refusedByAppliance(error, imageDir);
        last = (error as Error).message;
        if (!(error instanceof LioAgentUnreachable)) await drop();
      }
      // Not yet listening is the usual answer for the agent's first seconds (it imports targetcli): said only once it is long.
      if (Date.now() - saidAt > 10_000) {
        saidAt = Date.now();
        log(`waiting for the LIO agent over SSH (${Math.round((saidAt - since) / 1000)} s): ${last}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await drop();
  }
  throw new Error(`the LIO appliance's LIO agent did not answer over SSH in time: ${last}`);
}

/** The appliance's keys live in its cache entry: a refusal means that entry is not what booted. */
export function refusedByAppliance(error: SshRefused, imageDir: string): SshRefused {
  return new SshRefused(
    `the LIO appliance refused SSH: ${error.message}. Its image and keys are the cache entry ${imageDir}; if it was changed by hand, remove that folder and run again to rebuild it`,
    { cause: error },
  );
}
