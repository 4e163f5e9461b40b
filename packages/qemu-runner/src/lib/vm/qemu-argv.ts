// Pure VmSpec → qemu-system-x86_64 argv. No I/O, so every rule here is unit-tested.
import type { NicSpec, VmSpec } from './vm-spec';

export const QEMU_BINARY = 'qemu-system-x86_64';

// QEMU's slirp runs this once per guest connection with the socket as stdin
// and stdout; busybox-static is already needed for the probe guest.
export const GUEST_FORWARD_RELAY = 'busybox nc 127.0.0.1';
const RESERVED_GUEST_ADDRESSES = new Set(['10.0.2.2', '10.0.2.3']);

const MAC_PATTERN = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i;

export class VmSpecError extends Error {
  constructor(field: string, problem: string, fix: string) {
    super(`${field}: ${problem}; ${fix}`);
    this.name = 'VmSpecError';
  }
}

/** QEMU's option syntax uses ',' as separator; a literal comma is written ',,'. */
function optionValue(value: string): string {
  return value.replace(/,/g, ',,');
}

function accelArgs(accel: VmSpec['accel']): string[] {
  switch (accel ?? 'tcg') {
    case 'tcg':
      return ['-accel', 'tcg'];
    case 'kvm':
      return ['-accel', 'kvm'];
    case 'auto':
      // QEMU tries the accelerators in order and keeps the first that initialises.
      return ['-accel', 'kvm', '-accel', 'tcg'];
    default:
      throw new VmSpecError('accel', `unknown accelerator ${JSON.stringify(accel)}`, "use 'tcg', 'kvm' or 'auto'");
  }
}

function checkPort(field: string, port: number, protocol: 'TCP' | 'UDP'): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new VmSpecError(field, `${port} is not a ${protocol} port`, 'use an integer from 1 to 65535');
}

function netdevArg(nic: NicSpec, id: string, index: number): string {
  const netdev = nic.netdev;
  if (netdev.kind === 'user') {
    const parts = ['user', `id=${id}`];
    if (netdev.tftpDir) parts.push(`tftp=${optionValue(netdev.tftpDir)}`);
    if (netdev.bootfile) parts.push(`bootfile=${optionValue(netdev.bootfile)}`);
    for (const [j, fwd] of (netdev.hostForwards ?? []).entries()) {
      checkPort(`nics[${index}].netdev.hostForwards[${j}].hostPort`, fwd.hostPort, 'TCP');
      checkPort(`nics[${index}].netdev.hostForwards[${j}].guestPort`, fwd.guestPort, 'TCP');
      // Loopback only: a lab guest's services must never be reachable from other hosts.
      parts.push(`hostfwd=${fwd.protocol ?? 'tcp'}:127.0.0.1:${fwd.hostPort}-:${fwd.guestPort}`);
    }
    for (const [j, fwd] of (netdev.guestForwards ?? []).entries()) {
      const field = `nics[${index}].netdev.guestForwards[${j}]`;
      const octets = /^10\.0\.2\.(\d{1,3})$/.exec(fwd.guestIp);
      if (!octets || Number(octets[1]) > 254 || Number(octets[1]) === 0 || RESERVED_GUEST_ADDRESSES.has(fwd.guestIp)) {
        throw new VmSpecError(`${field}.guestIp`, `${JSON.stringify(fwd.guestIp)} is not a free address of QEMU's user network`, 'use one in 10.0.2.0/24 other than 10.0.2.2 and 10.0.2.3, e.g. 10.0.2.4');
      }
      checkPort(`${field}.guestPort`, fwd.guestPort, 'TCP');
      checkPort(`${field}.hostPort`, fwd.hostPort, 'TCP');
      parts.push(`guestfwd=tcp:${fwd.guestIp}:${fwd.guestPort}-cmd:${GUEST_FORWARD_RELAY} ${fwd.hostPort}`);
    }
    return parts.join(',');
  }
  if (netdev.kind === 'socket') {
    const modes = (['listen', 'connect', 'mcast'] as const).filter((k) => netdev[k]);
    if (modes.length !== 1) {
      throw new VmSpecError(
        `nics[${index}].netdev`,
        `a socket netdev needs exactly one of listen, connect, mcast (got ${modes.length})`,
        'set one of them to host:port',
      );
    }
    return `socket,id=${id},${modes[0]}=${optionValue(netdev[modes[0]] as string)}`;
  }
  throw new VmSpecError(`nics[${index}].netdev.kind`, 'unknown netdev kind', "use 'user' or 'socket'");
}

export function buildQemuArgv(spec: VmSpec): string[] {
  if (!Number.isInteger(spec.memoryMiB) || spec.memoryMiB < 16) {
    throw new VmSpecError('memoryMiB', `${spec.memoryMiB} is too small or not an integer`, 'use at least 16 (MiB)');
  }
  if (!spec.serialFile) throw new VmSpecError('serialFile', 'missing', 'give a file path for the serial console');
  if (!spec.qmpSocket) throw new VmSpecError('qmpSocket', 'missing', 'give a unix socket path for QMP');

  const argv: string[] = [];
  argv.push(...accelArgs(spec.accel));
  if (spec.machine) argv.push('-machine', spec.machine);
  argv.push('-m', String(spec.memoryMiB));
  if (spec.cpus !== undefined) argv.push('-smp', String(spec.cpus));

  // -nographic turns on SeaBIOS's serial console redirection, so SeaBIOS's and
  // iPXE's text reach the serial port (facts.md); the serial port goes to a
  // file and the monitor nowhere, so QEMU never touches the terminal.
  argv.push('-nographic', '-serial', `file:${spec.serialFile}`, '-monitor', 'none');
  argv.push('-qmp', `unix:${spec.qmpSocket},server=on,wait=off`);

  if ((spec.firmware ?? 'bios') === 'uefi') {
    if (!spec.uefi) {
      throw new VmSpecError('uefi', 'firmware is uefi but no OVMF paths were given', 'set uefi.code and uefi.vars');
    }
    argv.push('-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${optionValue(spec.uefi.code)}`);
    argv.push('-drive', `if=pflash,format=raw,unit=1,file=${optionValue(spec.uefi.vars)}`);
  } else if (spec.firmware !== 'bios' && spec.firmware !== undefined) {
    throw new VmSpecError('firmware', `unknown firmware ${JSON.stringify(spec.firmware)}`, "use 'bios' or 'uefi'");
  }

  const bootFromNetwork = spec.bootFromNetwork ?? !spec.kernel;
  for (const [i, nic] of spec.nics.entries()) {
    if (!nic.model) throw new VmSpecError(`nics[${i}].model`, 'missing', 'give a QEMU NIC model such as rtl8139');
    if (nic.mac !== undefined && !MAC_PATTERN.test(nic.mac)) {
      throw new VmSpecError(`nics[${i}].mac`, `${JSON.stringify(nic.mac)} is not a MAC address`, 'write it as 52:54:00:12:34:56');
    }
    const id = `net${i}`;
    const hubSocket = nic.netdev.kind === 'user' ? nic.netdev.hubSocket : undefined;
    if (hubSocket) {
      checkPort(`nics[${i}].netdev.hubSocket.port`, hubSocket.port, 'UDP');
      // The NIC, QEMU's user network and the socket on one hub: each sees every frame of the others.
      // QEMU's end of the socket takes a free port (the listener answers to where frames come from).
      argv.push('-netdev', netdevArg(nic, `${id}user`, i), '-netdev', `hubport,id=${id}hubuser,hubid=${i},netdev=${id}user`);
      argv.push('-netdev', `socket,id=${id}sock,udp=127.0.0.1:${hubSocket.port},localaddr=127.0.0.1:0`, '-netdev', `hubport,id=${id}hubsock,hubid=${i},netdev=${id}sock`);
      argv.push('-netdev', `hubport,id=${id},hubid=${i}`);
    } else {
      argv.push('-netdev', netdevArg(nic, id, i));
    }
    const device = [nic.model, `netdev=${id}`];
    if (nic.mac) device.push(`mac=${nic.mac.toLowerCase()}`);
    if (nic.romfile && nic.noRom) throw new VmSpecError(`nics[${i}].noRom`, 'is set together with romfile', 'give one of them');
    if (nic.romfile) device.push(`romfile=${optionValue(nic.romfile)}`);
    if (nic.noRom) device.push('romfile=');
    for (const [name, value] of Object.entries(nic.properties ?? {})) {
      if (!/^[a-z][a-z0-9_-]*$/.test(name) || ['netdev', 'mac', 'romfile', 'bootindex', 'id'].includes(name)) {
        throw new VmSpecError(`nics[${i}].properties.${name}`, 'is not a free -device property name', 'use a lowercase QEMU property such as disable-legacy (netdev, mac, romfile, bootindex are set from their own fields)');
      }
      device.push(`${name}=${optionValue(value)}`);
    }
    // bootindex puts the NIC first for OVMF too, which ignores -boot's legacy order.
    if (bootFromNetwork && i === 0) device.push('bootindex=1');
    argv.push('-device', device.join(','));
  }
  if (bootFromNetwork) {
    if (spec.nics.length === 0) throw new VmSpecError('bootFromNetwork', 'no NIC to boot from', 'add a NIC or set bootFromNetwork false');
    argv.push('-boot', 'n');
  }

  for (const [i, drive] of (spec.drives ?? []).entries()) {
    if (!drive.path) throw new VmSpecError(`drives[${i}].path`, 'missing', 'give the path of a disk image');
    if (drive.format !== 'raw' && drive.format !== 'qcow2') {
      throw new VmSpecError(`drives[${i}].format`, `unknown format ${JSON.stringify(drive.format)}`, "use 'raw' or 'qcow2' (QEMU must not guess: a guessed raw image can be rewritten as another format)");
    }
    const iface = drive.interface ?? 'virtio';
    if (iface !== 'virtio' && iface !== 'ide') throw new VmSpecError(`drives[${i}].interface`, `unknown interface ${JSON.stringify(iface)}`, "use 'virtio' or 'ide'");
    const cdrom = drive.media === 'cdrom';
    if (iface === 'virtio' && !cdrom) {
      const parts = [`file=${optionValue(drive.path)}`, `if=virtio`, `format=${drive.format}`];
      if (drive.snapshot) parts.push('snapshot=on');
      argv.push('-drive', parts.join(','));
      continue;
    }
    // An IDE disk or CD gets a bootindex after the NIC's, so the firmware boots it when iPXE exits.
    const parts = [`if=none`, `id=drive${i}`, `file=${optionValue(drive.path)}`, `format=${drive.format}`, `media=${cdrom ? 'cdrom' : 'disk'}`];
    if (cdrom) parts.push('readonly=on');
    else if (drive.snapshot) parts.push('snapshot=on');
    argv.push('-drive', parts.join(','));
    argv.push('-device', `${cdrom ? 'ide-cd' : 'ide-hd'},drive=drive${i},bootindex=${i + 2}`);
  }

  if (spec.kernel) {
    argv.push('-kernel', spec.kernel.path);
    if (spec.kernel.initrd) argv.push('-initrd', spec.kernel.initrd);
    if (spec.kernel.append) argv.push('-append', spec.kernel.append);
  }
  argv.push(...(spec.extraArgs ?? []));
  return argv;
}
