// The typed description of one QEMU guest. buildQemuArgv turns it into argv;
// startQemu fills in the per-run paths (serial file, QMP socket, OVMF vars).

export type Accel = 'tcg' | 'kvm' | 'auto';
export type Firmware = 'bios' | 'uefi';

export interface HostForward {
  hostPort: number;
  guestPort: number;
  protocol?: 'tcp';
}

/**
 * A fixed address inside the guest's network that is relayed to a host
 * loopback port. It lets a script and its iBFT name a portal that stays the
 * same from run to run while the service behind it (the LIO appliance) listens
 * on a port chosen at run time.
 */
export interface GuestForward {
  /** An address in 10.0.2.0/24 other than .2 (host) and .3 (DNS), e.g. 10.0.2.4. */
  guestIp: string;
  guestPort: number;
  /** The host loopback port each guest connection is relayed to. */
  hostPort: number;
}

export interface UserNetdev {
  kind: 'user';
  /** Served over QEMU's built-in TFTP server at 10.0.2.2. */
  tftpDir?: string;
  /** Handed out by QEMU's DHCP server as the boot file name (a path inside tftpDir). */
  bootfile?: string;
  /** Published on host loopback only (127.0.0.1), never on other interfaces. */
  hostForwards?: HostForward[];
  /** Guest connections to guestIp:guestPort, relayed to 127.0.0.1:hostPort. */
  guestForwards?: GuestForward[];
  /**
   * A UDP socket on 127.0.0.1:port joined to this network through a QEMU hub: it gets a copy of every frame
   * on the network and may send frames into it (the quick ProxyDHCP responder, boot/quick-proxy-dhcp.ts).
   */
  hubSocket?: { port: number };
}

export interface SocketNetdev {
  kind: 'socket';
  /** Exactly one of listen / connect / mcast, as QEMU's `-netdev socket` takes it (host:port). */
  listen?: string;
  connect?: string;
  mcast?: string;
}

export type NetdevSpec = UserNetdev | SocketNetdev;

export interface NicSpec {
  /** QEMU device model: rtl8139, virtio-net-pci, e1000, e1000e, … */
  model: string;
  /** Option ROM for this NIC (a built iPXE ROM, or the distro's stock ROM). */
  romfile?: string;
  mac?: string;
  /** No option ROM at all (`romfile=`): one iPXE ROM drives every NIC of its model, the others need none. */
  noRom?: boolean;
  /** More `-device` properties, e.g. { 'disable-legacy': 'on' } for Debian's virtio iPXE ROMs (PCI id 1af4:1041). */
  properties?: Record<string, string>;
  netdev: NetdevSpec;
}

/** A disk image the guest sees (`-drive`). */
export interface DriveSpec {
  path: string;
  format: 'raw' | 'qcow2';
  /** virtio (default: the guest's /dev/vda, /dev/vdb, … in order) or ide (what any firmware and installer can boot). */
  interface?: 'virtio' | 'ide';
  /** A CD-ROM (an installer ISO; always read-only) or a disk (default). */
  media?: 'disk' | 'cdrom';
  /**
   * Copy-on-write: the guest's writes go to a temporary overlay QEMU throws
   * away, the file itself is opened read-only and never written.
   */
  snapshot?: boolean;
}

export interface KernelSpec {
  path: string;
  initrd?: string;
  append?: string;
}

export interface UefiFirmwarePaths {
  /** Read-only OVMF code image. */
  code: string;
  /** Writable per-run copy of OVMF_VARS (startQemu makes it). */
  vars: string;
}

export interface VmSpec {
  accel?: Accel;
  machine?: string;
  memoryMiB: number;
  cpus?: number;
  firmware?: Firmware;
  /** Required for firmware 'uefi'; startQemu fills it in from Debian's ovmf package when absent. */
  uefi?: UefiFirmwarePaths;
  kernel?: KernelSpec;
  nics: NicSpec[];
  /** Disk images and CD-ROMs; the firmware boots them after the NICs, in this order. */
  drives?: DriveSpec[];
  /** Boot the first NIC's ROM first, so no key press is needed (default true when there is no kernel). */
  bootFromNetwork?: boolean;
  serialFile: string;
  qmpSocket: string;
  extraArgs?: string[];
}
