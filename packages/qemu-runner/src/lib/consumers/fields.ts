// One field model for every reader of the table. A reading is a flat map from
// a field path (compareIbft's names: initiator.name, nic[0].ip, target[0].lun,
// ...) to a normalised value: addresses canonical, MACs lower case, LUNs in the
// form Linux and open-iscsi print them (sysfs `lun`: each of the 8 bytes `%x`),
// the address decision as `dhcp` / `static`, secrets as the guest's salted
// hashes. null is "read, and absent"; a path a consumer does not read is not
// there at all.
import { canonicalAddress, type IbftExpectation } from '@ibft-lab/ibft';
import { saltedSecretHash } from '../probe';

export type FieldValue = string | number | null;
export type ConsumerFields = Record<string, FieldValue>;

/** NIC fields, in matrix order. */
export const NIC_FIELDS = ['mac', 'method', 'ip', 'prefix', 'gateway', 'dns', 'secondaryDns', 'vlan', 'hostname'] as const;
/** Target fields, in matrix order. */
export const TARGET_FIELDS = ['name', 'ip', 'port', 'lun', 'nic', 'chapType', 'chapName', 'chapSecret', 'reverseChapName', 'reverseChapSecret'] as const;
export type NicField = (typeof NIC_FIELDS)[number];
export type TargetField = (typeof TARGET_FIELDS)[number];

export const SECRET_FIELDS = new Set(['chapSecret', 'reverseChapSecret']);

/** The field name of a path: nic[0].ip → nic.ip, initiator.name → initiator.name. */
export function fieldKind(path: string): string {
  return path.replace(/\[\d+\]/, '');
}

/** Sort key: initiator, then NICs, then targets, each in slot and field order. */
export function comparePaths(a: string, b: string): number {
  const key = (path: string): [number, number, number] => {
    const m = /^(nic|target)\[(\d+)\]\.(\w+)$/.exec(path);
    if (!m) return [0, 0, 0];
    const order: readonly string[] = m[1] === 'nic' ? NIC_FIELDS : TARGET_FIELDS;
    return [m[1] === 'nic' ? 1 : 2, Number(m[2]), order.indexOf(m[3])];
  };
  const [x, y] = [key(a), key(b)];
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2] || a.localeCompare(b);
}

export function normalMac(mac: string | null | undefined): string | null {
  if (!mac) return null;
  return mac.trim().toLowerCase().replace(/-/g, ':');
}

/** An address in canonical form; text that is no address stays as it is (so it shows, and differs). */
export function normalAddress(address: string | null | undefined): string | null {
  if (address === null || address === undefined) return null;
  const text = address.trim().replace(/^\[(.*)\]$/, '$1');
  if (!text) return null;
  return canonicalAddress(text) ?? text;
}

/** Prefix length of a dotted netmask (255.255.255.0 → 24); null when it is not a contiguous mask. */
export function netmaskPrefix(mask: string): number | null {
  const octets = mask.split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) return null;
  const bits = octets.map((o) => o.toString(2).padStart(8, '0')).join('');
  return /^1*0*$/.test(bits) ? bits.indexOf('0') < 0 ? 32 : bits.indexOf('0') : null;
}

/** The address decision an iBFT origin stands for (spec: 1 manual, 3 DHCP, 4 router advertisement). */
export function originMethod(origin: number | string | null | undefined): string | null {
  if (origin === null || origin === undefined || origin === '') return null;
  const named: Record<string, number> = { other: 0, manual: 1, static: 1, 'well-known': 2, dhcp: 3, 'router-advertisement': 4, unchanged: 15 };
  const n = typeof origin === 'number' ? origin : /^\d+$/.test(origin) ? Number(origin) : named[origin.toLowerCase()];
  if (n === 1) return 'static';
  if (n === 3) return 'dhcp';
  if (n === 4) return 'autoconf';
  return n === undefined ? String(origin) : `origin ${n}`;
}

/** A LUN as Linux's sysfs `lun` file (and open-iscsi's node.boot_lun) shows it: the 8 bytes, each `%x`. */
export function sysfsLunText(lun: number | string): string | null {
  let words: number[];
  if (typeof lun === 'number') {
    if (!Number.isInteger(lun) || lun < 0 || lun > 0xffff) return null;
    words = [lun, 0, 0, 0];
  } else {
    const parts = lun.trim().split('-');
    if (parts.length > 4 || parts.some((p) => !/^[0-9a-f]{1,4}$/i.test(p))) return null;
    words = [0, 1, 2, 3].map((i) => (parts[i] ? parseInt(parts[i], 16) : 0));
  }
  return words.flatMap((w) => [w >> 8, w & 0xff]).map((b) => b.toString(16)).join('');
}

/**
 * What the lab declared, in the field model. Secrets become the salted hash the
 * guest prints for the same secret, so they compare without being shown.
 */
export function expectedFields(expectation: IbftExpectation, salt: string): ConsumerFields {
  const out: ConsumerFields = {};
  if (expectation.initiator?.name !== undefined) out['initiator.name'] = expectation.initiator.name;
  expectation.nics?.forEach((nic, i) => {
    const p = `nic[${i}]`;
    if (nic.mac !== undefined) out[`${p}.mac`] = normalMac(nic.mac);
    if (nic.origin !== undefined) out[`${p}.method`] = originMethod(nic.origin);
    if (nic.ip !== undefined) out[`${p}.ip`] = normalAddress(nic.ip);
    if (nic.prefix !== undefined) out[`${p}.prefix`] = nic.prefix;
    if (nic.gateway !== undefined) out[`${p}.gateway`] = normalAddress(nic.gateway);
    if (nic.dns !== undefined) out[`${p}.dns`] = normalAddress(nic.dns);
    if (nic.secondaryDns !== undefined) out[`${p}.secondaryDns`] = normalAddress(nic.secondaryDns);
    if (nic.vlan !== undefined) out[`${p}.vlan`] = nic.vlan;
    if (nic.hostname !== undefined) out[`${p}.hostname`] = nic.hostname;
  });
  expectation.targets?.forEach((target, i) => {
    const p = `target[${i}]`;
    if (target.name !== undefined) out[`${p}.name`] = target.name;
    if (target.ip !== undefined) out[`${p}.ip`] = normalAddress(target.ip);
    if (target.port !== undefined) out[`${p}.port`] = target.port;
    if (target.lun !== undefined) out[`${p}.lun`] = sysfsLunText(target.lun);
    if (target.nicAssociation !== undefined) out[`${p}.nic`] = target.nicAssociation;
    if (target.chapType !== undefined) out[`${p}.chapType`] = target.chapType;
    if (target.chapName !== undefined) out[`${p}.chapName`] = target.chapName;
    if (target.chapSecret !== undefined) out[`${p}.chapSecret`] = saltedSecretHash(salt, target.chapSecret);
    if (target.reverseChapName !== undefined) out[`${p}.reverseChapName`] = target.reverseChapName;
    if (target.reverseChapSecret !== undefined) out[`${p}.reverseChapSecret`] = saltedSecretHash(salt, target.reverseChapSecret);
  });
  return out;
}
