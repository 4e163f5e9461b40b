// dracut's reading: what its cmdline hooks made of the table (consumer-scripts.ts
// DRACUT_DRIVER_SCRIPT prints it). Its iBFT conversion (net-lib.sh
// ibft_to_cmdline) writes one `ip=` per boot NIC to /etc/cmdline.d/40-ibft.conf:
// `ip=ibft0:dhcp` when the table says DHCP (origin 3 or a DHCP server address:
// the table's addresses are then not used), else
// `ip=<ip>::<gw>:<mask>:<hostname>:ibft0:none[:<dns1>[:<dns2>]]`; the NIC's MAC
// goes to `ifname=ibft0:<mac>`, a VLAN to `vlan=ibft0.<id>:ibft0` (and the
// address stays on ibft0: the NIC's `vlan` field here is the VLAN of the
// interface ip= configures, 0 for ibft0). A NIC not selected for boot is named
// (ifname=) but not configured unless rd.iscsi.mp=1. 95iscsi takes
// the initiator name (/run/initiatorname.iscsi) and leaves the targets to
// `iscsiadm -m fw` (its initqueue jobs run /sbin/iscsiroot, which calls it):
// dracut reads no target field itself.
import { normalAddress, normalMac, netmaskPrefix, type FieldValue } from './fields';
import type { ConsumerSection } from './output';
import type { NicReading, Reading } from './reading';

/** `ip_to_var ARG: ip=… srv=… …` → its variables. */
function parseIpToVar(line: string): { arg: string; vars: Map<string, string> } | null {
  const m = /^ip_to_var (\S+): (.*)$/.exec(line);
  if (!m) return null;
  const vars = new Map<string, string>();
  for (const part of m[2].split(' ')) {
    const eq = part.indexOf('=');
    if (eq > 0) vars.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return { arg: m[1], vars };
}

function prefixOf(mask: string | undefined): FieldValue {
  if (!mask) return null;
  if (/^\d+$/.test(mask)) return Number(mask);
  return netmaskPrefix(mask) ?? mask;
}

export function dracutReading(section: ConsumerSection): Reading {
  const reading: Reading = { initiatorName: null, nics: [], targets: [], notes: [] };
  const initiator = section.files.get('/run/initiatorname.iscsi')?.find((l) => l.startsWith('InitiatorName='));
  reading.initiatorName = initiator ? initiator.slice('InitiatorName='.length) : null;
  const macOf = new Map<string, string>();
  /** VLAN interface → [parent, id]. */
  const vlans = new Map<string, [string, number]>();
  for (const line of section.out) {
    const ifname = /^ifname ([^:]+):(.+)$/.exec(line);
    if (ifname) macOf.set(ifname[1], normalMac(ifname[2]) ?? ifname[2]);
    const vlan = /^vlan ([^:]+):(.+)$/.exec(line);
    if (vlan) {
      const id = /\.(\d+)$/.exec(vlan[1]) ?? /(\d+)$/.exec(vlan[1]);
      if (id) vlans.set(vlan[1], [vlan[2], Number(id[1])]);
    }
  }
  const configured = new Set<string>();
  for (const line of section.out) {
    const parsed = parseIpToVar(line);
    if (!parsed) continue;
    const v = parsed.vars;
    const dev = v.get('dev') ?? '';
    const autoconf = v.get('autoconf') ?? '';
    // The address goes on `dev`: its VLAN is the one the NIC is used on, whatever vlan= lines make beside it.
    const asVlan = vlans.get(dev);
    const parent = asVlan ? asVlan[0] : dev;
    configured.add(parent);
    for (const [name, [of, id]] of vlans) {
      if (of === dev) reading.notes.push(`vlan=${name}:${of} makes VLAN ${id} on ${of}, but ip= configures ${dev} itself (untagged)`);
    }
    const nic: NicReading = {
      mac: macOf.get(parent) ?? (normalMac(v.get('macaddr')) || null),
      method: /^dhcp6?$/.test(autoconf) ? 'dhcp' : autoconf === 'none' || autoconf === 'off' ? 'static' : autoconf || null,
      vlan: asVlan ? asVlan[1] : 0,
    };
    if (nic.method !== 'dhcp') {
      // A static ip= carries the addresses; with dhcp dracut asks the network instead.
      Object.assign(nic, {
        ip: normalAddress(v.get('ip')),
        prefix: prefixOf(v.get('mask')),
        gateway: normalAddress(v.get('gw')),
        dns: normalAddress(v.get('dns1')),
        secondaryDns: normalAddress(v.get('dns2')),
        hostname: v.get('hostname') || null,
      });
    }
    reading.nics.push(nic);
  }
  for (const [dev, mac] of macOf) {
    if (!configured.has(dev)) reading.notes.push(`names ${dev} (${mac}) but configures nothing on it (not selected for boot: only rd.iscsi.mp=1 takes such NICs)`);
  }
  if (section.exitCode !== 0) reading.notes.push(`dracut's cmdline hooks exited ${section.exitCode ?? '(did not finish)'}`);
  for (const line of section.err) if (/warning|fatal|error/i.test(line)) reading.notes.push(line);
  const die = section.files.get('/lib/dracut/hooks/emergency/01-die.sh');
  if (die) reading.notes.push(...die.map((l) => l.replace(/^warn /, '')));
  return reading;
}
