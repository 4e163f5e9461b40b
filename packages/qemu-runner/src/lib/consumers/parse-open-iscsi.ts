// open-iscsi's reading: the records `iscsiadm -m fw` and `iscsistart -f`
// print (fw_print_entry in usr/fwparam_ibft/fw_entry.c): one per target, each
// with the initiator, the NIC it goes through and the target.
//
//   # BEGIN RECORD 2.1.8
//   iface.initiatorname = iqn.2010-04.org.ipxe:foobar
//   iface.hwaddress = 52:54:00:12:34:56
//   iface.bootproto = DHCP
//   ...
//   node.boot_lun = 01000000
//   # END RECORD
//
// Lines outside records (e.g. "Invalid nic-assoc of 1. Max id 1.") are notes.
import { normalAddress, normalMac } from './fields';
import type { Reading } from './reading';

export interface OpenIscsiRecord {
  /** key → value, in print order. */
  fields: Map<string, string>;
}

export function parseOpenIscsiRecords(stdout: string[]): { records: OpenIscsiRecord[]; notes: string[] } {
  const records: OpenIscsiRecord[] = [];
  const notes: string[] = [];
  let current: OpenIscsiRecord | null = null;
  for (const line of stdout) {
    if (line.startsWith('# BEGIN RECORD')) {
      current = { fields: new Map() };
      continue;
    }
    if (line.startsWith('# END RECORD')) {
      if (current) records.push(current);
      current = null;
      continue;
    }
    const eq = line.indexOf(' = ');
    if (current && eq > 0) current.fields.set(line.slice(0, eq), line.slice(eq + 3));
    else if (line.trim()) notes.push(line);
  }
  if (current) notes.push('a record has no "# END RECORD"');
  return { records, notes };
}

const int = (value: string | undefined) => (value === undefined ? null : /^-?\d+$/.test(value) ? Number(value) : value);

/** What iscsiadm -m fw / iscsistart -f read, from their stdout. */
export function openIscsiReading(stdout: string[], exitCode: number | null, stderr: string[] = []): Reading {
  const { records, notes } = parseOpenIscsiRecords(stdout);
  const reading: Reading = { initiatorName: null, nics: [], targets: [], notes: [...notes] };
  if (exitCode !== 0) reading.notes.push(`exit status ${exitCode ?? '(none: did not finish)'}${stderr.length ? `: ${stderr.join(' ')}` : ''}`);
  const names = new Set(records.map((r) => r.fields.get('iface.initiatorname') ?? null));
  if (names.size > 1) reading.notes.push(`records name ${names.size} different initiators: ${[...names].join(', ')}`);
  reading.initiatorName = records[0]?.fields.get('iface.initiatorname') ?? null;
  for (const { fields: f } of records) {
    const mac = normalMac(f.get('iface.hwaddress'));
    const bootproto = f.get('iface.bootproto');
    reading.nics.push({
      mac,
      method: bootproto === undefined ? null : bootproto === 'DHCP' ? 'dhcp' : bootproto === 'STATIC' ? 'static' : bootproto,
      ip: normalAddress(f.get('iface.ipaddress')),
      prefix: int(f.get('iface.prefix_len')),
      gateway: normalAddress(f.get('iface.gateway')),
      dns: normalAddress(f.get('iface.primary_dns')),
      secondaryDns: normalAddress(f.get('iface.secondary_dns')),
      vlan: int(f.get('iface.vlan_id')),
    });
    reading.targets.push({
      name: f.get('node.name') ?? null,
      ip: normalAddress(f.get('node.conn[0].address')),
      port: int(f.get('node.conn[0].port')),
      lun: f.get('node.boot_lun') ?? null,
      nicMac: mac,
      chapName: f.get('node.session.auth.username') ?? null,
      chapSecret: f.get('node.session.auth.password') ?? null,
      reverseChapName: f.get('node.session.auth.username_in') ?? null,
      reverseChapSecret: f.get('node.session.auth.password_in') ?? null,
    });
  }
  return reading;
}
