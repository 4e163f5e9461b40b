// What the booted system prints to prove where its root came from. The lines
// come from the system's own tools (findmnt, lsblk, iscsiadm, sysfs), not from
// anything the host put there, and the unit powers the machine off after them.
export const PROOF_PREFIX = 'ibft-lab-proof:';

/** /usr/local/sbin/ibft-lab-proof in the image (POSIX sh: dash runs it). */
export const PROOF_SCRIPT = `#!/bin/sh
# ibft-lab: prints where / came from on the console, then powers off.
say() { echo "${PROOF_PREFIX} $*"; }
src=$(findmnt -n -o SOURCE /)
fstype=$(findmnt -n -o FSTYPE /)
label=$(lsblk -n -d -o LABEL "$src" 2>/dev/null)
disk=$(lsblk -n -d -o PKNAME "$src" 2>/dev/null)
[ -n "$disk" ] || disk=$(basename "$src")
# The disk's SCSI device sits under the iSCSI session it came through: …/host0/session1/target0:0:0/0:0:0:0
sysdev=$(readlink -f "/sys/block/$disk/device")
session=
for part in $(echo "$sysdev" | tr / ' '); do case $part in session[0-9]*) session=$part ;; esac; done
read -r vendor < "/sys/block/$disk/device/vendor" || vendor=
read -r model < "/sys/block/$disk/device/model" || model=
say "root=$src fstype=$fstype label=$label on /dev/$disk (\${session:-no iSCSI session}, $vendor $model)"
# "tcp: [1] 10.0.2.2:3260,1 iqn.2024-01.org.example:target (non-flash)"
sessions=$(iscsiadm -m session 2>/dev/null | sed -n 's/^\\([a-z]*\\): \\[\\([0-9]*\\)\\] \\([^ ,]*\\),[0-9]* \\([^ ]*\\).*/\\1 \\2 \\3 \\4/p')
found=
while read -r transport sid portal target; do
  [ -n "$target" ] || continue
  say "session target=$target portal=$portal transport=$transport sid=$sid (iscsiadm -m session)"
  found=1
done <<EOT
$sessions
EOT
if [ -z "$found" ]; then
  for s in /sys/class/iscsi_session/session*; do
    [ -e "$s/targetname" ] || continue
    n=\${s##*session}
    c=$(ls -d /sys/class/iscsi_connection/connection$n:* 2>/dev/null | head -n 1)
    say "session target=$(cat "$s/targetname") portal=$(cat "$c/persistent_address"):$(cat "$c/persistent_port") transport=tcp sid=$n (sysfs)"
    found=1
  done
fi
[ -n "$found" ] || say "session none"
if [ -d /sys/firmware/ibft/initiator ]; then
  t=/sys/firmware/ibft/target0
  read -r iname < /sys/firmware/ibft/initiator/initiator-name || iname=
  read -r tname < $t/target-name || tname=
  read -r tip < $t/ip-addr || tip=
  read -r tport < $t/port || tport=
  say "ibft initiator=$iname target=$tname portal=$tip:$tport"
fi
. /etc/os-release
read -r _ _ release _ < /proc/version
say "os=$PRETTY_NAME kernel=$release"
say done
# What \`systemctl poweroff\` does once it finds no logind to ask (the image has no D-Bus): no "Failed to connect to bus".
systemctl --no-block --job-mode=replace-irreversibly start poweroff.target
`;

/**
 * Runs once per boot, as soon as the local file systems are up: not after
 * basic.target (the default), which on TCG comes seconds later, behind udev's
 * coldplug. It needs only /proc, /sys and the root, all there by then.
 */
export const PROOF_UNIT = `[Unit]
Description=ibft-lab proof: where the root file system came from
DefaultDependencies=no
After=local-fs.target
Conflicts=shutdown.target
Before=shutdown.target

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/ibft-lab-proof
# On one emulated CPU it runs while udev loads modules for every device; go first.
Nice=-10
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
TTYReset=no
TTYVHangup=no

[Install]
WantedBy=multi-user.target
`;

export interface ProofLines {
  root?: { source: string; fstype: string; label: string; disk: string; session?: string; detail: string };
  sessions: Array<{ target: string; portal: string; transport: string; via: string }>;
  ibft?: { initiator: string; target: string; portal: string };
  os?: string;
  done: boolean;
  /** Every proof line, prefix removed, in order. */
  lines: string[];
}

/** Reads the proof lines out of a serial console text (plain, as plainSerialText gives it). */
export function parseProofLines(serial: string): ProofLines {
  const result: ProofLines = { sessions: [], done: false, lines: [] };
  for (const raw of serial.split('\n')) {
    const at = raw.indexOf(PROOF_PREFIX);
    if (at < 0) continue;
    const line = raw.slice(at + PROOF_PREFIX.length).trim();
    result.lines.push(line);
    let m: RegExpExecArray | null;
    if ((m = /^root=(\S+) fstype=(\S*) label=(\S*) on \/dev\/(\S+) \((.*)\)$/.exec(line))) {
      const session = /^(session\d+),/.exec(m[5])?.[1];
      result.root = { source: m[1], fstype: m[2], label: m[3], disk: m[4], session, detail: m[5] };
    } else if ((m = /^session target=(\S+) portal=(\S+) transport=(\S+) sid=\S+ \((.+)\)$/.exec(line))) {
      result.sessions.push({ target: m[1], portal: m[2], transport: m[3], via: m[4] });
    } else if ((m = /^ibft initiator=(\S*) target=(\S*) portal=(\S*)$/.exec(line))) {
      result.ibft = { initiator: m[1], target: m[2], portal: m[3] };
    } else if ((m = /^os=(.*) kernel=\S+$/.exec(line))) {
      result.os = m[1];
    } else if (line === 'done') {
      result.done = true;
    }
  }
  return result;
}
