// NetworkManager's reading: the connections `nm-initrd-generator -s` prints
// for `rd.iscsi.ibft=1` (src/nm-initrd-generator/nmi-ibft-reader.c): one per
// iBFT NIC, keyed by MAC, as keyfile text under `*** Connection 'NAME' ***`.
// NM takes the address decision from `origin` alone (3 or 4: ipv4.method=auto,
// the table's address is kept as address1 too), ignores `dhcp` and the
// hostname, turns VLAN 1-4095 into a vlan connection, and reads no target and
// no initiator name.
import { normalAddress, normalMac, type FieldValue } from './fields';
import type { NicReading, Reading } from './reading';

export interface KeyfileConnection {
  name: string;
  /** section → key → value. */
  sections: Map<string, Map<string, string>>;
}

/** The `*** Connection '…' ***` blocks of nm-initrd-generator's stdout (configuration blocks are skipped). */
export function parseNmConnections(stdout: string[]): KeyfileConnection[] {
  const connections: KeyfileConnection[] = [];
  let current: KeyfileConnection | null = null;
  let section: Map<string, string> | null = null;
  for (const line of stdout) {
    const header = /^\*\*\* (\w+) '(.*)' \*\*\*$/.exec(line);
    if (header) {
      current = header[1] === 'Connection' ? { name: header[2], sections: new Map() } : null;
      if (current) connections.push(current);
      section = null;
      continue;
    }
    if (!current) continue;
    const group = /^\[(.+)\]$/.exec(line);
    if (group) {
      section = new Map();
      current.sections.set(group[1], section);
      continue;
    }
    const eq = line.indexOf('=');
    if (section && eq > 0) section.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return connections;
}

const METHODS: Record<string, string> = { auto: 'dhcp', dhcp: 'dhcp', manual: 'static' };

export function networkManagerReading(stdout: string[], exitCode: number | null, stderr: string[] = []): Reading {
  const reading: Reading = { nics: [], targets: [], notes: [] };
  if (exitCode !== 0) reading.notes.push(`nm-initrd-generator exited ${exitCode ?? '(did not finish)'}${stderr.length ? `: ${stderr.join(' ')}` : ''}`);
  for (const connection of parseNmConnections(stdout)) {
    const s = (name: string) => connection.sections.get(name) ?? new Map<string, string>();
    const v4 = s('ipv4');
    const v6 = s('ipv6');
    // nmi-ibft-reader.c sets the other family's method to disabled.
    const ip = v4.get('method') === 'disabled' && v6.get('method') && v6.get('method') !== 'disabled' ? v6 : v4;
    const method = ip.get('method');
    const address = ip.get('address1') ?? null;
    const [cidr, gatewayInAddress] = address ? address.split(',') : [null, undefined];
    const [addr, prefix] = cidr ? cidr.split('/') : [null, undefined];
    const dns = (ip.get('dns') ?? '').split(';').filter(Boolean);
    const vlanId = s('vlan').get('id');
    const nic: NicReading = {
      mac: normalMac(s('ethernet').get('mac-address')),
      method: method === undefined ? null : ip === v6 && method === 'auto' ? 'autoconf' : (METHODS[method] ?? method),
      ip: normalAddress(addr),
      prefix: prefix === undefined ? null : (Number(prefix) as FieldValue),
      gateway: normalAddress(gatewayInAddress ?? ip.get('gateway')),
      dns: normalAddress(dns[0]),
      secondaryDns: normalAddress(dns[1]),
      vlan: vlanId === undefined ? 0 : Number(vlanId),
    };
    reading.nics.push(nic);
  }
  for (const line of stderr) if (line.trim()) reading.notes.push(line);
  return reading;
}
