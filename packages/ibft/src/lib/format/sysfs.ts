// What Linux's iscsi_ibft module shows under /sys/firmware/ibft, one
// `kobject/attribute=value` line per file, sorted (C locale). Value formatting
// and which attributes are hidden follow drivers/firmware/iscsi_ibft.c.
import { linuxIpv6, prefixToMask } from '../address';
import { STRUCTURE_SIZE, type IbftString, type IbftTable, type IpAddress } from '../structures';
import { type FormatOptions, secretText } from './options';

/** sprintf_ipaddr: IPv4-mapped as a dotted quad, anything else as %pI6 (uncompressed). */
function linuxAddress(a: IpAddress): string {
  return a.family === 'ipv4' ? a.address : linuxIpv6(a.address);
}

/** sprintf_string "%.*s": the decoded value; a zero-length/absent string prints empty. */
function linuxString(s: IbftString | null): string {
  return s?.value ?? '';
}

/**
 * Linux only creates kobjects when the table passes ibft_check_device (revision 1,
 * checksum 0) and the control header checks; a structure is registered when its
 * offset is inside the table (including Linux's `offset < length - 48` quirk) and
 * its header id and length match.
 */
function linuxAccepts(table: IbftTable): boolean {
  const c = table.control;
  return (
    table.header.revision === 1 &&
    table.checksumSum === 0 &&
    !!c &&
    c.header.id === 1 &&
    c.header.length === STRUCTURE_SIZE.control &&
    c.header.index === 0
  );
}

function linuxRegisters(table: IbftTable, offset: number, id: number, length: number, h: { id: number; length: number }): boolean {
  const eot = table.header.length - STRUCTURE_SIZE.tableHeader;
  return offset < table.header.length && offset < eot && h.id === id && h.length === length;
}

export function formatSysfs(table: IbftTable, options?: FormatOptions): string[] {
  if (!linuxAccepts(table)) return [];
  const lines: string[] = [];
  const add = (kobj: string, attr: string, value: string | number) => lines.push(`${kobj}/${attr}=${value}`);

  add('acpi_header', 'signature', table.header.signature);
  add('acpi_header', 'oem_id', table.header.oemId);
  add('acpi_header', 'oem_table_id', table.header.oemTableId);

  const ini = table.initiator;
  if (ini && linuxRegisters(table, ini.offset, 2, STRUCTURE_SIZE.initiator, ini.header)) {
    const k = 'initiator';
    add(k, 'index', ini.header.index);
    add(k, 'flags', ini.header.flags);
    if (!ini.isnsServer.unset) add(k, 'isns-server', linuxAddress(ini.isnsServer));
    if (!ini.slpServer.unset) add(k, 'slp-server', linuxAddress(ini.slpServer));
    if (!ini.primaryRadiusServer.unset) add(k, 'pri-radius-server', linuxAddress(ini.primaryRadiusServer));
    if (!ini.secondaryRadiusServer.unset) add(k, 'sec-radius-server', linuxAddress(ini.secondaryRadiusServer));
    if (ini.name && ini.name.length) add(k, 'initiator-name', linuxString(ini.name));
  }

  for (const nic of table.nics) {
    if (!linuxRegisters(table, nic.offset, 3, STRUCTURE_SIZE.nic, nic.header)) continue;
    const k = `ethernet${nic.header.index}`;
    add(k, 'index', nic.header.index);
    add(k, 'flags', nic.header.flags);
    if (!nic.ip.unset) add(k, 'ip-addr', linuxAddress(nic.ip));
    if (nic.prefixLength) {
      add(k, 'prefix-len', nic.prefixLength);
      add(k, 'subnet-mask', prefixToMask(nic.prefixLength));
    }
    add(k, 'origin', nic.origin);
    if (!nic.gateway.unset) add(k, 'gateway', linuxAddress(nic.gateway));
    if (!nic.primaryDns.unset) add(k, 'primary-dns', linuxAddress(nic.primaryDns));
    if (!nic.secondaryDns.unset) add(k, 'secondary-dns', linuxAddress(nic.secondaryDns));
    if (!nic.dhcp.unset) add(k, 'dhcp', linuxAddress(nic.dhcp));
    add(k, 'vlan', nic.vlan);
    add(k, 'mac', nic.mac);
    // Linux shows hostname whenever its offset is non-zero, even with length 0.
    if (nic.hostname) add(k, 'hostname', linuxString(nic.hostname));
  }

  for (const t of table.targets) {
    if (!linuxRegisters(table, t.offset, 4, STRUCTURE_SIZE.target, t.header)) continue;
    const k = `target${t.header.index}`;
    add(k, 'index', t.header.index);
    add(k, 'flags', t.header.flags);
    add(k, 'ip-addr', linuxAddress(t.ip));
    add(k, 'port', t.port);
    // Eight bytes, each "%x" without padding: LUN 1 (00 01 00 ...) prints 01000000.
    add(k, 'lun', t.lun.hex.match(/../g)!.map((b) => parseInt(b, 16).toString(16)).join(''));
    add(k, 'chap-type', t.chapType);
    add(k, 'nic-assoc', t.nicAssociation);
    if (t.name && t.name.length) add(k, 'target-name', linuxString(t.name));
    if (t.chapName && t.chapName.length) {
      add(k, 'chap-name', linuxString(t.chapName));
      add(k, 'chap-secret', secretText(linuxString(t.chapSecret), options));
    }
    if (t.reverseChapName && t.reverseChapName.length) {
      add(k, 'rev-chap-name', linuxString(t.reverseChapName));
      add(k, 'rev-chap-name-secret', secretText(linuxString(t.reverseChapSecret), options));
    }
  }
  return lines.sort();
}
