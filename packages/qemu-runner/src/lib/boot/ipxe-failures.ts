import type { ConsolePhase } from '../vm';
import { PROOF_PREFIX } from '../os-image/proof';
import { PROBE_BEGIN, PROBE_END } from '../probe';
// iPXE lines that mean the lab cannot reach its marker in a useful state.
// iPXE prints them as "<what>: <error text> (http://ipxe.org/<code>)".
export const IPXE_FAILURE_PATTERNS: RegExp[] = [
  /Could not open SAN device/,
  /Could not (?:boot|load|describe|configure|start)/,
  /Connection timed out/,
  /Connection refused/,
  /Permission denied/,
  /No such file/,
  /No such device/,
  /Operation not supported/,
  /Network unreachable/,
  /No configuration methods succeeded/,
  // The firmware gave up on the NIC's ROM (e.g. a UEFI application where an option ROM belongs):
  // without these the run would only end at its deadline.
  /UEFI Interactive Shell/,
  /No bootable device/,
];

export const LINUX_FAILURE_PATTERNS: RegExp[] = [/Kernel panic/, /can't run '\/init'/, /No working init found/];

/** The initiator's console as a person follows it (calmLog): iPXE, DHCP, each SAN device, the marker, what boots next. */
export function initiatorPhases(marker: string): ConsolePhase[] {
  return [
    { pattern: /iPXE (\S+) -- Open Source Network Boot Firmware/, label: (m) => `iPXE ${m[1]}` },
    { pattern: /(?:Configuring|DHCP) \((net\d)/, label: (m) => `DHCP on ${m[1]}` },
    { pattern: /Registered SAN device (0x[0-9a-f]+)/, label: (m) => `Registered SAN device ${m[1]}` },
    { pattern: /Registered SAN device (0x[0-9a-f]+)/, label: (m) => `Registered SAN device ${m[1]}` },
    { pattern: new RegExp(marker.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), label: () => `marker ${marker}` },
    { pattern: new RegExp(PROBE_BEGIN), label: () => 'Linux probe reading /sys/firmware/ibft' },
    { pattern: new RegExp(PROBE_END), label: () => 'Linux probe done' },
    // A system under test booted from the SAN disk (sanboot), up to its own proof.
    { pattern: /Booting from SAN device (0x[0-9a-f]+)/, label: (m) => `sanboot ${m[1]}` },
    { pattern: /Linux version (\S+)/, label: (m) => `Linux ${m[1]} booting` },
    { pattern: /iscsistart: Logging into (\S+) (\S+?)(?:,\d+)?\s*$/, label: (m) => `initramfs: iscsistart logs in to ${m[1]} at ${m[2]}` },
    { pattern: new RegExp(`${PROOF_PREFIX} root=(\\S+)`), label: (m) => `proof: root is ${m[1]}` },
    { pattern: /reboot: Power down/, label: () => 'power off' },
  ];
}
