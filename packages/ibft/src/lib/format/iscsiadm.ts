// What open-iscsi 2.1.8's `iscsiadm -m fw` prints for a table, predicted from
// the sysfs files Linux would create (../linux.ts), following open-iscsi's own
// code path:
//   usr/iscsiadm.c exec_fw_op -> fw_get_targets (usr/fwparam_ibft/fw_entry.c)
//   -> fwparam_sysfs_get_targets / get_targets (usr/fwparam_ibft/fwparam_sysfs.c)
//   -> fill_tgt_context, fill_nic_context, fill_initiator_context
//   -> fw_print_entry (dump_initiator, dump_network, dump_target)
// with values read by sysfs_get_str / sysfs_get_int (usr/sysfs.c).
import { linuxSysfs, kernfsOrder } from '../linux';
import type { IbftTable, Nic } from '../structures';
import { type FormatOptions, MASKED_SECRET } from './options';

export interface IscsiadmFormatOptions extends FormatOptions {
  /** open-iscsi's ISCSI_VERSION_STR on the "# BEGIN RECORD" line; default "2.1.8". */
  version?: string;
  /**
   * The host interface open-iscsi finds for a NIC (get_iface_from_device: the NIC's PCI `device` link,
   * else net_get_netdev_from_hwaddress by MAC). Not in the table. A string names it for every NIC; a
   * function answers per NIC with a name, `''` for "no PCI device link" (open-iscsi then leaves
   * iface.net_ifacename out), or `null` for "a device link but no netdev, and no interface has the MAC"
   * (open-iscsi then skips the target). Default `''`: no device at the NIC's PCI address, as in a guest
   * given the table with QEMU's -acpitable and no such NIC.
   */
  netIfaceName?: string | ((nic: Nic) => string | null);
}

export interface IscsiadmRecord {
  /** The sysfs kobjects the record was read from. */
  target: string;
  ethernet: string;
  /** key = value pairs in print order (secrets masked unless revealed). */
  fields: { key: string; value: string }[];
}

export interface IscsiadmFwResult {
  /** 0 when at least one target was read; 21 (ISCSI_ERR_NO_OBJS_FOUND) when none was. */
  exitCode: 0 | 21;
  /** Everything iscsiadm writes to stdout, exact bytes: notes such as "Invalid nic-assoc ..." and the records. */
  stdout: Buffer;
  /** What it writes to stderr ("iscsiadm: Could not get list of targets from firmware. (err 21)" on failure). */
  stderr: string;
  records: IscsiadmRecord[];
  /**
   * Lines this prediction cannot get exactly from the table (a sysfs value of 256 bytes or more: open-iscsi
   * reads 256 bytes and strdup()s an unterminated buffer). Compare those records' values as prefixes.
   */
  uncertain: string[];
}

/** ISCSI_BOOT_MAX in fwparam_sysfs.c: entries past it are dropped with a printf. */
const ISCSI_BOOT_MAX = 255;
/** NAME_SIZE in usr/sysfs.h: sysfs_attr_get_value reads at most this many bytes. */
const NAME_SIZE = 256;
const ISCSI_ERR_NO_OBJS_FOUND = 21;
const ISCSI_LISTEN_PORT = 3260;

/** C atoi: optional blanks and sign, then digits. */
function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  return m ? Number.parseInt(m[1], 10) | 0 : 0;
}

/**
 * Predict `iscsiadm -m fw` for a table: its exit code, stdout and stderr. This is the function to compare
 * with the real binary (see compareIscsiadmFw); pass `revealSecrets: true` for that, as iscsiadm prints
 * CHAP secrets in clear.
 */
export function predictIscsiadmFw(table: IbftTable, options: IscsiadmFormatOptions = {}): IscsiadmFwResult {
  const version = options.version ?? '2.1.8';
  const view = linuxSysfs(table);
  const dirs = new Map<string, Map<string, string>>();
  const nicOf = new Map<string, Nic>();
  for (const k of view.kobjects) {
    dirs.set(k.name, new Map(k.attributes.map((a) => [a.name, a.content])));
    if (k.kind === 'nic') nicOf.set(k.name, k.structure as Nic);
  }
  const out: string[] = [];
  const uncertain: string[] = [];
  const records: IscsiadmRecord[] = [];

  // sysfs_attr_get_value + sysfs_get_value: read up to 256 bytes, strip trailing newlines; empty,
  // "<NULL>" and "(null)" count as absent.
  const read = (dir: string, attr: string): string | null => {
    let content = dirs.get(dir)?.get(attr);
    if (content === undefined) return null;
    if (content.length >= NAME_SIZE) {
      uncertain.push(`${dir}/${attr}: ${content.length} bytes; open-iscsi reads ${NAME_SIZE} and runs past its buffer, so only the first ${NAME_SIZE} are known`);
      content = content.slice(0, NAME_SIZE);
    }
    const v = content.replace(/\n+$/, '');
    if (v === '' || v.startsWith('<NULL>') || v.startsWith('(null)')) return null;
    return v;
  };
  /** sysfs_get_int: *value = -1, then atoi of the value if there is one. */
  const readInt = (dir: string, attr: string): { ok: boolean; value: number } => {
    const v = read(dir, attr);
    return v === null ? { ok: false, value: -1 } : { ok: true, value: atoi(v) };
  };
  /** sysfs_get_str into a zeroed buffer: '' when absent. */
  const readStr = (dir: string, attr: string) => read(dir, attr) ?? '';

  const fail = (): IscsiadmFwResult => ({
    exitCode: ISCSI_ERR_NO_OBJS_FOUND,
    stdout: Buffer.from(out.join(''), 'latin1'),
    stderr: `iscsiadm: Could not get list of targets from firmware. (err ${ISCSI_ERR_NO_OBJS_FOUND})\n`,
    records: [],
    uncertain,
  });

  // get_targets: nothing unless /sys/firmware/ibft/initiator exists.
  if (!dirs.has('initiator')) return fail();

  // nftw over /sys/firmware/ibft: directories in readdir (kernfs hash) order; names containing "target" /
  // "ethernet" are kept, at most ISCSI_BOOT_MAX of each.
  const targetList: string[] = [];
  const nicList: string[] = [];
  for (const name of kernfsOrder([...dirs.keys()])) {
    if (name.includes('target')) {
      if (targetList.length === ISCSI_BOOT_MAX) out.push(`Too many targets found in iSCSI boot data.Max number of targets ${ISCSI_BOOT_MAX}\n`);
      else targetList.push(name);
    }
    if (name.includes('ethernet')) {
      if (nicList.length === ISCSI_BOOT_MAX) out.push(`Too many nics found in iSCSI boot data.Max number of nics ${ISCSI_BOOT_MAX}\n`);
      else nicList.push(name);
    }
  }

  const secret = (v: string) => (options.revealSecrets ? v : MASKED_SECRET);
  for (const t of targetList) {
    // fill_tgt_context: flags must read and be non-zero ("any setting is deemed okay"); target-name and
    // ip-addr must exist; port defaults to 3260.
    const tflags = readInt(t, 'flags');
    if (!tflags.ok || tflags.value === 0) continue;
    const targetname = read(t, 'target-name');
    if (targetname === null) continue;
    const targetIp = read(t, 'ip-addr');
    if (targetIp === null) continue;
    const port = readInt(t, 'port');
    const targetPort = port.ok ? port.value : ISCSI_LISTEN_PORT;
    const lun = readStr(t, 'lun');
    const chapName = readStr(t, 'chap-name');
    const chapPassword = readStr(t, 'chap-secret');
    const chapNameIn = readStr(t, 'rev-chap-name');
    const chapPasswordIn = readStr(t, 'rev-chap-name-secret');

    const assoc = readInt(t, 'nic-assoc');
    if (!assoc.ok) continue;
    const nic = nicList.find((n) => {
      const id = readInt(n, 'index');
      return id.ok && id.value === assoc.value;
    });
    if (!nic) {
      out.push(`Invalid nic-assoc of ${assoc.value}. Max id ${nicList.length}.\n`);
      continue;
    }

    // fill_nic_context
    const nflags = readInt(nic, 'flags');
    if (!nflags.ok || nflags.value === 0) continue;
    const mac = read(nic, 'mac');
    if (mac === null) continue;
    const resolve = options.netIfaceName;
    const iface = resolve === undefined ? '' : typeof resolve === 'string' ? resolve : resolve(nicOf.get(nic)!);
    if (iface === null) continue;
    const ipaddr = readStr(nic, 'ip-addr');
    const vlan = readStr(nic, 'vlan');
    const mask = readStr(nic, 'subnet-mask');
    // A NIC with prefix 0 has no prefix-len file: sysfs_get_int leaves -1, and dump_network prints it.
    const prefix = readInt(nic, 'prefix-len').value;
    const gateway = readStr(nic, 'gateway');
    const primaryDns = readStr(nic, 'primary-dns');
    const secondaryDns = readStr(nic, 'secondary-dns');
    const dhcp = readStr(nic, 'dhcp');
    const origin = readInt(nic, 'origin').value;
    // fill_initiator_context (iscsi_ibft has no isid attribute).
    const initiatorname = readStr('initiator', 'initiator-name');
    const isid = readStr('initiator', 'isid');

    const fields: { key: string; value: string }[] = [];
    const field = (key: string, value: string) => fields.push({ key, value });
    // dump_initiator
    if (initiatorname) field('iface.initiatorname', initiatorname);
    if (isid) field('iface.isid', isid);
    field('iface.transport_name', 'tcp');
    // dump_network
    field('iface.hwaddress', mac);
    field('iface.bootproto', origin === 3 || (dhcp !== '' && dhcp !== '0.0.0.0') ? 'DHCP' : 'STATIC');
    if (ipaddr) field('iface.ipaddress', ipaddr);
    if (prefix) field('iface.prefix_len', String(prefix));
    if (mask) field('iface.subnet_mask', mask);
    if (gateway) field('iface.gateway', gateway);
    if (primaryDns) field('iface.primary_dns', primaryDns);
    if (secondaryDns) field('iface.secondary_dns', secondaryDns);
    if (vlan) field('iface.vlan_id', vlan);
    if (iface) field('iface.net_ifacename', iface);
    // dump_target
    field('node.name', targetname);
    field('node.conn[0].address', targetIp);
    field('node.conn[0].port', String(targetPort));
    if (chapName) field('node.session.auth.username', chapName);
    if (chapPassword) field('node.session.auth.password', secret(chapPassword));
    if (chapNameIn) field('node.session.auth.username_in', chapNameIn);
    if (chapPasswordIn) field('node.session.auth.password_in', secret(chapPasswordIn));
    if (lun) field('node.boot_lun', lun);
    records.push({ target: t, ethernet: nic, fields });
  }

  if (!records.length) return fail();
  for (const r of records) {
    out.push(`# BEGIN RECORD ${version}\n`, ...r.fields.map((f) => `${f.key} = ${f.value}\n`), '# END RECORD\n');
  }
  return { exitCode: 0, stdout: Buffer.from(out.join(''), 'latin1'), stderr: '', records, uncertain };
}

/**
 * The stdout of `iscsiadm -m fw` as text (bytes that are not UTF-8 show as U+FFFD): the records, and any
 * line open-iscsi prints about targets it skips. Empty-handed runs (exit 21) print only those lines; use
 * predictIscsiadmFw for the exit code and stderr.
 */
export function formatIscsiadm(table: IbftTable, options?: IscsiadmFormatOptions): string {
  return predictIscsiadmFw(table, options).stdout.toString('utf8');
}

export interface IscsiadmDifference {
  /** 1-based stdout line, or 0 for the exit code. */
  line: number;
  expected: string | null;
  actual: string | null;
}

const SECRET_KEYS = /^(node\.session\.auth\.password(_in)?) = /;
const maskLine = (l: string | null) => (l === null ? null : l.replace(/^(node\.session\.auth\.password(?:_in)?) = .*$/, `$1 = ${MASKED_SECRET}`));

/**
 * Compare a prediction with what the real `iscsiadm -m fw` did (e.g. in a guest given the table). Secrets
 * are compared but never shown: differing password lines read `********` on both sides. Values the
 * prediction marks uncertain match when the real line starts with the predicted one.
 */
export function compareIscsiadmFw(predicted: IscsiadmFwResult, actual: { exitCode: number | null; stdout: string | Uint8Array }): IscsiadmDifference[] {
  const diffs: IscsiadmDifference[] = [];
  if (predicted.exitCode !== actual.exitCode) diffs.push({ line: 0, expected: `exit ${predicted.exitCode}`, actual: `exit ${actual.exitCode}` });
  const split = (b: string) => b.split('\n').slice(0, b.endsWith('\n') ? -1 : undefined);
  const want = split(predicted.stdout.toString('latin1'));
  const got = split(typeof actual.stdout === 'string' ? Buffer.from(actual.stdout, 'utf8').toString('latin1') : Buffer.from(actual.stdout).toString('latin1'));
  const prefixOk = predicted.uncertain.length > 0;
  for (let i = 0; i < Math.max(want.length, got.length); i++) {
    const w = want[i] ?? null;
    const g = got[i] ?? null;
    if (w === g) continue;
    if (prefixOk && w !== null && g !== null && g.startsWith(w)) continue;
    const secretLine = (w && SECRET_KEYS.test(w)) || (g && SECRET_KEYS.test(g));
    const show = (l: string | null) => (l === null ? null : Buffer.from(l, 'latin1').toString('utf8'));
    diffs.push({ line: i + 1, expected: show(secretLine ? maskLine(w) : w), actual: show(secretLine ? maskLine(g) : g) });
  }
  return diffs;
}
