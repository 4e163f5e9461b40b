// Compare an expected configuration (JSON-friendly, partial) with a decoded
// table. Labs assert with the mismatches; CHAP secrets are compared but their
// values never appear in a mismatch.
import { canonicalAddress } from './address';
import type { ChapTypeName, IbftString, IbftTable, IpAddress, Lun } from './structures';

export interface NicExpectation {
  ip?: string;
  prefix?: number;
  gateway?: string;
  /** Primary DNS server. */
  dns?: string;
  secondaryDns?: string;
  /** DHCP server address. */
  dhcp?: string;
  /** Numeric origin (1 manual/static, 3 DHCP) or its name ('manual', 'dhcp', ...). */
  origin?: number | string;
  mac?: string;
  vlan?: number;
  hostname?: string;
}

export interface TargetExpectation {
  ip?: string;
  port?: number;
  /** A LUN number (1), or iPXE/SCSI hex words ("1", "0001-0000-0000-0000"). */
  lun?: number | string;
  name?: string;
  chapType?: 'none' | 'chap' | 'mutual';
  chapName?: string;
  chapSecret?: string;
  reverseChapName?: string;
  reverseChapSecret?: string;
  /** Index of the NIC the target uses. */
  nicAssociation?: number;
}

export interface IbftExpectation {
  initiator?: { name?: string };
  /** In slot order; a missing NIC is a mismatch. */
  nics?: NicExpectation[];
  /** In slot order; a missing target is a mismatch. */
  targets?: TargetExpectation[];
}

export interface Mismatch {
  /** e.g. initiator.name, nic[0].ip, target[1].lun. */
  path: string;
  expected: string | number | null;
  actual: string | number | null;
}

export const SECRET_DIFFERS = '<secret differs>';

const ORIGIN_BY_NAME: Record<string, number> = { other: 0, manual: 1, static: 1, 'well-known': 2, dhcp: 3, 'router-advertisement': 4, unchanged: 15 };

/** iPXE's scsi_parse_lun: up to four '-'-separated hex words. */
function lunWords(text: string): number[] | null {
  const parts = text.trim().split('-');
  if (parts.length > 4 || parts.some((p) => !/^[0-9a-f]{1,4}$/i.test(p))) return null;
  return [0, 1, 2, 3].map((i) => (parts[i] ? parseInt(parts[i], 16) : 0));
}

function lunMatches(expected: number | string, lun: Lun): boolean {
  if (typeof expected === 'number') return lun.number === expected;
  const words = lunWords(expected);
  return !!words && words.every((w, i) => w === lun.words[i]);
}

function addressText(a: IpAddress): string | null {
  return a.unset ? null : a.address;
}

export function compareIbft(expected: IbftExpectation, table: IbftTable): Mismatch[] {
  const out: Mismatch[] = [];
  const check = (path: string, want: string | number | undefined, actual: string | number | null, same?: (w: string | number, a: string | number | null) => boolean) => {
    if (want === undefined) return;
    const equal = same ? same(want, actual) : want === actual;
    if (!equal) out.push({ path, expected: want, actual });
  };
  const sameAddress = (w: string | number, a: string | number | null) => {
    if (a === null) return false;
    const cw = canonicalAddress(String(w));
    return cw !== null && cw === canonicalAddress(String(a));
  };
  const str = (s: IbftString | null) => (s ? s.value : null);
  const secret = (path: string, want: string | undefined, actual: IbftString | null) => {
    if (want === undefined) return;
    if (actual?.value !== want) out.push({ path, expected: SECRET_DIFFERS, actual: actual ? SECRET_DIFFERS : null });
  };

  if (expected.initiator) {
    if (!table.initiator) out.push({ path: 'initiator', expected: 'present', actual: null });
    else check('initiator.name', expected.initiator.name, str(table.initiator.name));
  }

  expected.nics?.forEach((want, i) => {
    const nic = table.nics.find((n) => n.slot === i);
    const p = `nic[${i}]`;
    if (!nic) return void out.push({ path: p, expected: 'present', actual: null });
    check(`${p}.ip`, want.ip, addressText(nic.ip), sameAddress);
    check(`${p}.prefix`, want.prefix, nic.prefixLength);
    check(`${p}.gateway`, want.gateway, addressText(nic.gateway), sameAddress);
    check(`${p}.dns`, want.dns, addressText(nic.primaryDns), sameAddress);
    check(`${p}.secondaryDns`, want.secondaryDns, addressText(nic.secondaryDns), sameAddress);
    check(`${p}.dhcp`, want.dhcp, addressText(nic.dhcp), sameAddress);
    check(`${p}.origin`, want.origin, nic.origin, (w, a) => (typeof w === 'number' ? w : ORIGIN_BY_NAME[String(w).toLowerCase()]) === a);
    check(`${p}.mac`, want.mac, nic.mac, (w, a) => String(w).toLowerCase().replace(/-/g, ':') === a);
    check(`${p}.vlan`, want.vlan, nic.vlan);
    check(`${p}.hostname`, want.hostname, str(nic.hostname));
  });

  expected.targets?.forEach((want, i) => {
    const t = table.targets.find((x) => x.slot === i);
    const p = `target[${i}]`;
    if (!t) return void out.push({ path: p, expected: 'present', actual: null });
    check(`${p}.ip`, want.ip, addressText(t.ip), sameAddress);
    check(`${p}.port`, want.port, t.port);
    if (want.lun !== undefined && !lunMatches(want.lun, t.lun)) {
      out.push({ path: `${p}.lun`, expected: want.lun, actual: typeof want.lun === 'number' ? (t.lun.number ?? t.lun.text) : t.lun.text });
    }
    check(`${p}.name`, want.name, str(t.name));
    check(`${p}.chapType`, want.chapType, t.chapTypeName satisfies ChapTypeName);
    check(`${p}.chapName`, want.chapName, str(t.chapName));
    secret(`${p}.chapSecret`, want.chapSecret, t.chapSecret);
    check(`${p}.reverseChapName`, want.reverseChapName, str(t.reverseChapName));
    secret(`${p}.reverseChapSecret`, want.reverseChapSecret, t.reverseChapSecret);
    check(`${p}.nicAssociation`, want.nicAssociation, t.nicAssociation);
  });
  return out;
}

