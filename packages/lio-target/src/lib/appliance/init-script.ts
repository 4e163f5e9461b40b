// The appliance's /init (busybox sh). Order matters (facts.md): configfs
// before LIO, virtio_pci before virtio_net and virtio_blk (the disks
// startAppliance gives it: /dev/vda, /dev/vdb, …), a system D-Bus before targetcli
// and its agent (lio-agent.ts), which startAppliance waits for before it saves the state.
import { LIO_AGENT_PATH, LIO_AGENT_PORT } from './lio-agent';

export const APPLIANCE_READY_MARKER = 'ibft-lab appliance: ready';

export const APPLIANCE_MODULES = [
  'configfs',
  'virtio_pci',
  'virtio_net',
  'virtio_blk',
  'target_core_mod',
  'target_core_file',
  'target_core_iblock',
  'iscsi_target_mod',
  // VLAN interfaces on private segments (segment-network.ts).
  '8021q',
];

export const INIT_SCRIPT = `#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mkdir -p /var/tmp /var/lib/ibft-lab /run/lock /etc/target /etc/rtslib-fb-target
for m in ${APPLIANCE_MODULES.join(' ')}; do
  modprobe "$m" || echo "ibft-lab appliance: modprobe $m failed"
done
grep -q " /sys/kernel/config " /proc/mounts || mount -t configfs configfs /sys/kernel/config
hostname lio-appliance
ip link set lo up
ip addr add 10.0.2.15/24 dev eth0
ip link set eth0 up
ip route add default via 10.0.2.2
mkdir -p /run/dbus
dbus-uuidgen --ensure=/etc/machine-id
dbus-daemon --system --fork || echo "ibft-lab appliance: dbus-daemon failed"
python3 ${LIO_AGENT_PATH} ${LIO_AGENT_PORT} </dev/null >/dev/null 2>/dev/ttyS0 &
dropbear -r /etc/dropbear/dropbear_ed25519_host_key -p 22 -s -E 2>/dev/ttyS0 || echo "ibft-lab appliance: dropbear failed"
echo "${APPLIANCE_READY_MARKER}"
while true; do sleep 3600; done
`;
