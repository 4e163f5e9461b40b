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
