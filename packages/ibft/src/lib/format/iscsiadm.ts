// The record `iscsiadm -m fw` prints for each boot target (open-iscsi
// usr/fw_entry.c fw_print_entry), built from the same values Linux exposes in
// sysfs (open-iscsi reads them from /sys/firmware/ibft).
import type { IbftTable, Nic, Target } from '../structures';
import { formatSysfs } from './sysfs';
import { type FormatOptions, secretText } from './options';

export interface IscsiadmFormatOptions extends FormatOptions {
  /** Appended to "# BEGIN RECORD" as open-iscsi does with its version (e.g. "2.1.8"); default none. */
  version?: string;
  /** iface.net_ifacename: the host network interface with the NIC's MAC; unknown from the table alone. */
  netIfaceName?: string;
}

function sysfsValues(table: IbftTable): Map<string, string> {
  const values = new Map<string, string>();
  // Secrets are revealed here and masked per option below, so masking never leaks into the logic.
  for (const line of formatSysfs(table, { revealSecrets: true })) {
    const eq = line.indexOf('=');
    values.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return values;
}

function record(table: IbftTable, values: Map<string, string>, target: Target, nic: Nic | undefined, options?: IscsiadmFormatOptions): string[] {
  const get = (key: string) => values.get(key) ?? '';
  const out: string[] = [options?.version ? `# BEGIN RECORD ${options.version}` : '# BEGIN RECORD'];
  const line = (key: string, value: string) => out.push(`${key} = ${value}`);

  const iname = get('initiator/initiator-name');
  if (iname) line('iface.initiatorname', iname);
  line('iface.transport_name', 'tcp');

  const eth = nic ? `ethernet${nic.header.index}` : '';
  const mac = nic ? get(`${eth}/mac`) : '';
  if (mac) line('iface.hwaddress', mac);
  const dhcp = nic ? get(`${eth}/dhcp`) : '';
  line('iface.bootproto', dhcp && dhcp !== '0.0.0.0' ? 'DHCP' : 'STATIC');
  if (nic) {
    for (const [attr, key] of [
      ['ip-addr', 'iface.ipaddress'],
      ['subnet-mask', 'iface.subnet_mask'],
      ['gateway', 'iface.gateway'],
      ['primary-dns', 'iface.primary_dns'],
      ['secondary-dns', 'iface.secondary_dns'],
      ['vlan', 'iface.vlan_id'],
    ]) {
      const v = get(`${eth}/${attr}`);
      if (v) line(key, v);
    }
  }
  if (options?.netIfaceName) line('iface.net_ifacename', options.netIfaceName);

  const tk = `target${target.header.index}`;
  const name = get(`${tk}/target-name`);
  if (name) line('node.name', name);
  const addr = get(`${tk}/ip-addr`);
  if (addr) line('node.conn[0].address', addr);
  line('node.conn[0].port', String(target.port));
  const user = get(`${tk}/chap-name`);
  if (user) line('node.session.auth.username', user);
  const pass = get(`${tk}/chap-secret`);
  if (pass) line('node.session.auth.password', secretText(pass, options));
  const userIn = get(`${tk}/rev-chap-name`);
  if (userIn) line('node.session.auth.username_in', userIn);
  const passIn = get(`${tk}/rev-chap-name-secret`);
  if (passIn) line('node.session.auth.password_in', secretText(passIn, options));
  const lun = get(`${tk}/lun`);
  if (lun) line('node.boot_lun', lun);
  out.push('# END RECORD');
  return out;
}

/** One record per target Linux would expose, each with the NIC its nic-assoc names. */
export function formatIscsiadm(table: IbftTable, options?: IscsiadmFormatOptions): string {
  const values = sysfsValues(table);
  const records: string[] = [];
  for (const t of table.targets) {
    if (!values.has(`target${t.header.index}/index`)) continue;
    const nic = table.nics.find((n) => n.header.index === t.nicAssociation && values.has(`ethernet${n.header.index}/index`));
    records.push(record(table, values, t, nic, options).join('\n'));
  }
  return records.length ? `${records.join('\n')}\n` : '';
}
