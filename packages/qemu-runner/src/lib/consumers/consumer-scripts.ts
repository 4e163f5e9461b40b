// The consumer probe's guest side: /consumers/run, which the probe's /init
// calls after printing /sys/firmware/ibft, runs every other reader of the
// table on the same live table and prints what each said on the serial
// console, one prefixed line at a time, between markers:
//
//   IBFT-LAB-CONSUMER-BEGIN iscsiadm
//   ibft-consumer iscsiadm out: iface.initiatorname = iqn...
//   ibft-consumer iscsiadm err: ...
//   ibft-consumer iscsiadm exit: 0
//   IBFT-LAB-CONSUMER-END iscsiadm
//
// Secrets never leave the guest in clear: the CHAP password lines open-iscsi
// prints carry sha256(salt + secret) instead (the salt is the probe's, from the
// kernel command line), and any other occurrence of a secret the table holds
// is masked before it is printed.

export const CONSUMER_BEGIN = 'IBFT-LAB-CONSUMER-BEGIN';
export const CONSUMER_END = 'IBFT-LAB-CONSUMER-END';
export const CONSUMER_LINE_PREFIX = 'ibft-consumer ';
/** Where the consumer layer puts its driver in the guest; the probe's /init runs it when it is there. */
export const CONSUMER_RUN_PATH = '/consumers/run';

/**
 * The command line dracut and NetworkManager are given: what dracut's own
 * iBFT test and the distributions' installers use (dracut.cmdline(7):
 * rd.iscsi.firmware reads the targets from the firmware, rd.iscsi.ibft
 * configures the interfaces from it).
 */
export const DRACUT_ARGS = 'rd.iscsi.ibft=1 rd.iscsi.firmware=1';
export const NM_ARGS = DRACUT_ARGS;

/**
 * Seconds any one tool may take in the guest (busybox timeout) before it counts as hung. dracut's hooks take
 * 4 s on a quiet machine and went past 20 s with eleven labs on 2 cores (the labs e2e, virtio-uefi: killed, read
 * nothing, the lab failed); the boot's own deadline still bounds the whole probe.
 */
export const CONSUMER_TOOL_TIMEOUT_SECONDS = 60;

/**
 * dracut 059's cmdline stage for an iBFT boot, as its init.sh runs it: the
 * hooks sourced in one shell, in their order (99base 10 parse-root-opts,
 * 95iscsi 90 parse-iscsiroot, 35network-legacy 92 parse-ibft, 98
 * parse-ip-opts), then what dracut's own parser (net-lib.sh ip_to_var) makes
 * of each ip= it ends up with. Runs under dash, Debian's /bin/sh, with kmod's
 * modprobe (dracut passes it --all, which busybox's refuses).
 */
export const DRACUT_DRIVER_SCRIPT = `#!/usr/bin/dash
export PATH=/consumers/bin:/usr/sbin:/usr/bin:/sbin:/bin
export NEWROOT=/sysroot
. /lib/dracut-lib.sh
for hook in /lib/dracut/hooks/cmdline/*.sh; do
  [ -e "$hook" ] && . "$hook"
done
. /lib/net-lib.sh
for p in $(getargs ip=); do
  unset ip srv gw mask hostname dev autoconf macaddr mtu dns1 dns2
  ip_to_var "$p"
  echo "ip_to_var $p: ip=$ip srv=$srv gw=$gw mask=$mask hostname=$hostname dev=$dev autoconf=$autoconf mtu=$mtu macaddr=$macaddr dns1=$dns1 dns2=$dns2"
done
for p in $(getargs ifname=); do echo "ifname $p"; done
for p in $(getargs vlan=); do echo "vlan $p"; done
echo "root=$root netroot=$netroot"
`;

export const CONSUMER_RUN_SCRIPT = `#!/bin/busybox sh
# Every iBFT consumer on the live table; see consumer-scripts.ts.
salt="$1"
export PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C LC_ALL=C
mkdir -p /tmp /run /etc /var/lib
: > /tmp/ibft-secrets
for f in /sys/firmware/ibft/target*/chap-secret /sys/firmware/ibft/target*/rev-chap-name-secret; do
  [ -f "$f" ] && { cat "$f"; echo; } >> /tmp/ibft-secrets
done

# open-iscsi prints CHAP secrets in clear: those lines carry a salted hash instead.
hash_secret_lines() {
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in
      "node.session.auth.password = "*|"node.session.auth.password_in = "*)
        printf '%s = salted-sha256:%s\\n' "\${line%% = *}" "$(printf '%s%s' "$salt" "\${line#* = }" | sha256sum | cut -d' ' -f1)";;
      *) printf '%s\\n' "$line";;
    esac
  done
}

# emit NAME TAG FILE: each line of FILE as "ibft-consumer NAME TAG: line", any secret masked.
emit() {
  [ -s "$3" ] || return 0
  awk -v p="${CONSUMER_LINE_PREFIX}$1 $2: " '
    BEGIN { while ((getline s < "/tmp/ibft-secrets") > 0) if (s != "") secret[++n] = s }
    { line = $0
      for (i = 1; i <= n; i++) {
        out = ""; rest = line
        while ((k = index(rest, secret[i])) > 0) { out = out substr(rest, 1, k - 1) "********"; rest = substr(rest, k + length(secret[i])) }
        line = out rest
      }
      print p line }' "$3"
}

# run NAME COMMAND...: the command's stdout, stderr and exit status, bounded in time.
run() {
  name=$1; shift
  timeout ${CONSUMER_TOOL_TIMEOUT_SECONDS} "$@" > /tmp/consumer.out 2> /tmp/consumer.err < /dev/null
  rc=$?
  hash_secret_lines < /tmp/consumer.out > /tmp/consumer.hashed
  emit "$name" out /tmp/consumer.hashed
  emit "$name" err /tmp/consumer.err
  echo "${CONSUMER_LINE_PREFIX}$name exit: $rc"
}

# files NAME PATH...: each existing file's lines, tagged with its path.
files() {
  name=$1; shift
  for f in "$@"; do [ -f "$f" ] && emit "$name" "file $f" "$f"; done
}

echo "${CONSUMER_BEGIN} dracut"
echo "${DRACUT_ARGS}" > /etc/cmdline
run dracut dash /consumers/dracut.sh
files dracut /etc/cmdline.d/*.conf /run/initiatorname.iscsi /lib/dracut/hooks/initqueue/*.sh /lib/dracut/hooks/initqueue/*/*.sh /lib/dracut/hooks/emergency/*.sh
rm -f /etc/cmdline
echo "${CONSUMER_END} dracut"

echo "${CONSUMER_BEGIN} networkmanager"
run networkmanager /usr/lib/NetworkManager/nm-initrd-generator -s -- ${NM_ARGS}
echo "${CONSUMER_END} networkmanager"

# open-iscsi names the interface of each iBFT NIC (its PCI device's netdev, else
# the interface with its MAC) and skips a target whose NIC has none. The probe
# kernel has drivers for virtio-net only: a NIC without a driver gets a dummy
# interface carrying its MAC, as its driver would give it one.
echo "${CONSUMER_BEGIN} setup"
modprobe virtio_pci 2>&1 | sed 's/^/${CONSUMER_LINE_PREFIX}setup err: /'
modprobe virtio_net 2>&1 | sed 's/^/${CONSUMER_LINE_PREFIX}setup err: /'
n=0
for d in /sys/firmware/ibft/ethernet*; do
  [ -f "$d/mac" ] || continue
  mac=$(cat "$d/mac")
  device=no
  [ -e "$d/device" ] && device=yes
  found=
  for a in /sys/class/net/*/address; do
    [ "$(cat "$a")" = "$mac" ] && { found=\${a%/address}; found=\${found##*/}; }
  done
  if [ -z "$found" ]; then
    modprobe dummy numdummies=0
    ip link add fwnic$n type dummy && ip link set fwnic$n address "$mac" && found=dummy:fwnic$n
    n=$((n + 1))
  fi
  echo "${CONSUMER_LINE_PREFIX}setup out: \${d##*/} mac=$mac device=$device interface=\${found:-none}"
done
echo "${CONSUMER_END} setup"

echo "${CONSUMER_BEGIN} iscsiadm"
run iscsiadm iscsiadm -m fw
echo "${CONSUMER_END} iscsiadm"

echo "${CONSUMER_BEGIN} iscsistart"
run iscsistart iscsistart -f
echo "${CONSUMER_END} iscsistart"
rm -f /tmp/ibft-secrets /tmp/consumer.*
`;
