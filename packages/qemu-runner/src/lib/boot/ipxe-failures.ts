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
];

export const LINUX_FAILURE_PATTERNS: RegExp[] = [/Kernel panic/, /can't run '\/init'/, /No working init found/];
