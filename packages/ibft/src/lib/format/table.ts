// A readable, aligned summary of a decoded table for people.
import type { IbftString, IbftTable, IpAddress } from '../structures';
import { type FormatOptions, secretText } from './options';

const addr = (a: IpAddress) => (a.unset ? '-' : a.address);
const str = (s: IbftString | null) => (s ? s.value : '-');
const flagList = (pairs: [boolean, string][]) => pairs.filter(([on]) => on).map(([, n]) => n).join(', ') || 'none';

export function formatTable(table: IbftTable, options?: FormatOptions): string {
  const sections: [string, [string, string][]][] = [];
  const h = table.header;
  sections.push([
    'ACPI header',
    [
      ['signature', h.signature],
      ['length', String(h.length)],
      ['revision', String(h.revision)],
      ['checksum', `0x${h.checksum.toString(16).padStart(2, '0')} (${table.checksumSum === 0 ? 'ok' : 'bad'})`],
      ['OEM id', h.oemId],
      ['OEM table id', h.oemTableId],
    ],
  ]);
  const ini = table.initiator;
  if (ini) {
    sections.push([
      `Initiator (index ${ini.header.index}, offset ${ini.offset})`,
      [
        ['flags', `${ini.header.flags} (${flagList([[ini.valid, 'valid'], [ini.bootSelected, 'boot selected']])})`],
        ['name', str(ini.name)],
        ['iSNS server', addr(ini.isnsServer)],
        ['SLP server', addr(ini.slpServer)],
        ['RADIUS servers', `${addr(ini.primaryRadiusServer)} ${addr(ini.secondaryRadiusServer)}`],
      ],
    ]);
  }
  for (const n of table.nics) {
    sections.push([
      `NIC ${n.slot} (index ${n.header.index}, offset ${n.offset}${n.via ? `, in ${n.via} slot ${n.slot}` : ''})`,
      [
        ['flags', `${n.header.flags} (${flagList([[n.valid, 'valid'], [n.bootSelected, 'boot selected'], [n.global, 'global']])})`],
        ['MAC', n.mac],
        ['PCI', `${n.pci.bus.toString(16).padStart(2, '0')}:${n.pci.device.toString(16).padStart(2, '0')}.${n.pci.function}`],
        ['address', `${addr(n.ip)}/${n.prefixLength}${n.ip.family === 'ipv4' ? ` (mask ${n.subnetMask})` : ''}`],
        ['origin', `${n.origin} (${n.originName})`],
        ['gateway', addr(n.gateway)],
        ['DNS', `${addr(n.primaryDns)} ${addr(n.secondaryDns)}`],
        ['DHCP server', addr(n.dhcp)],
        ['VLAN', String(n.vlan)],
        ['hostname', str(n.hostname)],
      ],
    ]);
  }
  for (const t of table.targets) {
    const secret = (s: IbftString | null) => (s ? secretText(s.value, options) : '-');
    sections.push([
      `Target ${t.slot} (index ${t.header.index}, offset ${t.offset}${t.via ? `, in ${t.via} slot ${t.slot}` : ''})`,
      [
        ['flags', `${t.header.flags} (${flagList([[t.valid, 'valid'], [t.bootSelected, 'boot selected'], [t.radiusChap, 'RADIUS CHAP'], [t.radiusReverseChap, 'RADIUS reverse CHAP']])})`],
        ['name', str(t.name)],
        ['portal', `${t.ip.family === 'ipv6' ? `[${t.ip.address}]` : t.ip.address}:${t.port}`],
        ['LUN', `${t.lun.text}${t.lun.number !== null ? ` (${t.lun.number})` : ''}`],
        ['NIC association', String(t.nicAssociation)],
        ['CHAP', `${t.chapType} (${t.chapTypeName})`],
        ['CHAP name', str(t.chapName)],
        ['CHAP secret', secret(t.chapSecret)],
        ['reverse CHAP name', str(t.reverseChapName)],
        ['reverse CHAP secret', secret(t.reverseChapSecret)],
      ],
    ]);
  }
  const width = Math.max(...sections.flatMap(([, rows]) => rows.map(([k]) => k.length)));
  return sections.map(([title, rows]) => [title, ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)].join('\n')).join('\n\n') + '\n';
}
