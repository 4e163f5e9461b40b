// The probe guest's /init: load iscsi_ibft, print every file under
// /sys/firmware/ibft as `kobject/attribute=value` between markers on the
// serial console, power off. CHAP secrets never leave the guest as text:
// /init prints sha256(salt + secret), the salt comes on the kernel command
// line, and the host compares hashes (probe-lines.ts).
import { CONSUMER_RUN_PATH } from '../consumers/consumer-scripts';

export const PROBE_BEGIN = 'IBFT-LAB-PROBE-BEGIN';
export const PROBE_END = 'IBFT-LAB-PROBE-END';
export const PROBE_LINE_PREFIX = 'ibft-probe: ';
export const PROBE_SALT_PARAM = 'ibft_lab.salt';
/**
 * The probe kernel's command line before the salt. The probe is a throwaway guest running nothing but its
 * /init, so it trades what a real system keeps for time under TCG, where every boot pays it:
 * - norandmaps: QEMU 7.2's TCG keys its translated code by virtual address too, so with ASLR every exec
 *   (dracut's hooks are about 75 execs and 110 forks) translates libc and ld.so again; without, they are
 *   translated once (dracut 2.7 s → 1.4 s).
 * - cryptomgr.notests=1: the crypto self-tests, about 0.3 s; the probe uses no kernel crypto.
 * - mitigations=off: speculation mitigations (alternatives patching, retpolines), about 0.6 s.
 */
export const PROBE_KERNEL_ARGS = 'console=ttyS0 rdinit=/init quiet panic=0 mitigations=off norandmaps cryptomgr.notests=1 edd=off';
/**
 * Attributes whose values are secrets: hashed in the guest, masked in reports.
 * Linux names the reverse (mutual) CHAP secret `rev-chap-name-secret`
 * (drivers/firmware/iscsi_ibft.c).
 */
export const SECRET_ATTRIBUTES = ['chap-secret', 'rev-chap-name-secret'];

export const PROBE_INIT_SCRIPT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mkdir -p /proc /sys /dev
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
modprobe iscsi_ibft 2>&1 | sed 's/^/ibft-probe-modprobe: /'
salt=$(sed -n 's/.*${PROBE_SALT_PARAM}=\\([^ ]*\\).*/\\1/p' /proc/cmdline)
echo ${PROBE_BEGIN}
if [ -d /sys/firmware/ibft ]; then
  cd /sys/firmware/ibft
  for f in $(find . -type f | sort); do
    name=\${f#./}
    case "\${name##*/}" in
      chap-secret|rev-chap-name-secret)
        value="salted-sha256:$(printf '%s%s' "$salt" "$(cat "$f")" | sha256sum | cut -d' ' -f1)";;
      *) value=$(cat "$f");;
    esac
    echo "${PROBE_LINE_PREFIX}$name=$value"
  done
else
  echo "ibft-probe-error: /sys/firmware/ibft does not exist (no iBFT found by Linux)"
fi
# The consumer probe (../consumers) adds the other readers of the table.
cd /
[ -x ${CONSUMER_RUN_PATH} ] && ${CONSUMER_RUN_PATH} "$salt"
echo ${PROBE_END}
sync
poweroff -f
`;
