// iSCSI SAN URIs as iPXE reads them (RFC 4173 root path):
//   iscsi:<server>:<protocol>:<port>:<LUN>:<targetname>
// server: IPv4, [IPv6] or a DNS name; protocol: empty or 6 (TCP);
// port: empty means 3260; LUN: hex, up to four '-'-separated 16-bit words,
// empty means 0; targetname: the rest, colons included.
import { isIPv4, isIPv6 } from 'node:net';
import { validateIscsiName } from './iscsi-name';

export const ISCSI_DEFAULT_PORT = 3260;

export interface SanTarget {
  /** IPv4 address, IPv6 address (without brackets) or DNS name. */
  server: string;
  /** RFC 4173 protocol field; iPXE ignores it, the only valid value is 6 (TCP). */
  protocol?: 6;
  /** TCP port; absent means 3260 (rendered as an empty field). */
  port?: number;
  /** LUN: a number (one 16-bit word, rendered hex) or the hex form "1-0-0-0". Absent means LUN 0. */
  lun?: number | string;
  targetIqn: string;
}

export type SanUriResult = { ok: true; target: SanTarget } | { ok: false; message: string };

const DNS_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const LUN_STRING = /^[0-9a-fA-F]{1,4}(?:-[0-9a-fA-F]{1,4}){0,3}$/;

/** Problem with a server field (IPv4, IPv6 or DNS name), or undefined. */
export function checkServer(server: string): string | undefined {
  if (!server) return 'server is empty; give an IPv4 address, IPv6 address or DNS name';
  if (isIPv4(server) || isIPv6(server)) return undefined;
  if (/^[\d.]+$/.test(server)) return `server "${server}" is not a valid IPv4 address`;
  if (server.includes(':')) return `server "${server}" is not a valid IPv6 address`;
  if (!DNS_NAME.test(server)) return `server "${server}" is not a valid IPv4/IPv6 address or DNS name`;
  return undefined;
}

/** Problem with a LUN, or undefined. */
export function checkLun(lun: number | string): string | undefined {
  if (typeof lun === 'number') {
    return Number.isInteger(lun) && lun >= 0 && lun <= 0xffff ? undefined : `LUN ${lun} must be an integer 0 to 65535`;
  }
  return LUN_STRING.test(lun)
    ? undefined
    : `LUN "${lun}" must be hexadecimal: up to four '-'-separated words of 1-4 hex digits, e.g. 1 or 0-1-0-0`;
}

export function checkPort(port: number): string | undefined {
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? undefined : `port ${port} must be an integer 1 to 65535`;
}

/** Problems with a SAN target; empty when it can be written as a URI. */
export function checkSanTarget(target: SanTarget): string[] {
  const problems: string[] = [];
  const server = checkServer(target.server);
  if (server) problems.push(server);
  if (target.protocol !== undefined && target.protocol !== 6) problems.push('protocol must be empty or 6 (TCP)');
  if (target.port !== undefined) {
    const port = checkPort(target.port);
    if (port) problems.push(port);
  }
  if (target.lun !== undefined) {
    const lun = checkLun(target.lun);
    if (lun) problems.push(lun);
  }
  for (const p of validateIscsiName(target.targetIqn)) problems.push(`target name ${p}`);
  return problems;
}

function lunText(lun: number | string): string {
  return typeof lun === 'number' ? lun.toString(16) : lun.toLowerCase();
}

/** Builds the URI; throws (naming the field) when the target is invalid. */
export function buildSanUri(target: SanTarget): string {
  const problems = checkSanTarget(target);
  if (problems.length) throw new Error(`invalid SAN target: ${problems.join('; ')}`);
  const server = isIPv6(target.server) ? `[${target.server}]` : target.server;
  return [
    'iscsi',
    server,
    target.protocol === undefined ? '' : String(target.protocol),
    target.port === undefined ? '' : String(target.port),
    target.lun === undefined ? '' : lunText(target.lun),
    target.targetIqn,
  ].join(':');
}

/**
 * Parses an iSCSI SAN URI. A single-word LUN comes back as a number, a
 * multi-word LUN as its lowercase hex text; empty fields stay absent.
 */
export function parseSanUri(uri: string): SanUriResult {
  const fail = (message: string): SanUriResult => ({ ok: false, message });
  if (!uri.startsWith('iscsi:')) {
    return fail(`"${uri}" is not an iSCSI SAN URI; expected iscsi:<server>:<protocol>:<port>:<LUN>:<targetname>`);
  }
  let rest = uri.slice('iscsi:'.length);
  let server: string;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) return fail('IPv6 server literal has no closing "]"');
    server = rest.slice(1, close);
    if (!isIPv6(server)) return fail(`server "[${server}]" is not a valid IPv6 address`);
    rest = rest.slice(close + 1);
    if (!rest.startsWith(':')) return fail('expected ":" after the IPv6 server literal');
    rest = rest.slice(1);
  } else {
    const colon = rest.indexOf(':');
    if (colon < 0) return fail('too few fields; expected iscsi:<server>:<protocol>:<port>:<LUN>:<targetname>');
    server = rest.slice(0, colon);
    rest = rest.slice(colon + 1);
    const problem = checkServer(server);
    if (problem) return fail(problem);
  }
  const fields: string[] = [];
  for (let i = 0; i < 3; i++) {
    const colon = rest.indexOf(':');
    if (colon < 0) return fail('too few fields; expected iscsi:<server>:<protocol>:<port>:<LUN>:<targetname>');
    fields.push(rest.slice(0, colon));
    rest = rest.slice(colon + 1);
  }
  const [protocolText, portText, lunField] = fields;
  const target: SanTarget = { server, targetIqn: rest };
  if (protocolText !== '') {
    if (protocolText !== '6') return fail(`protocol "${protocolText}" must be empty or 6 (TCP)`);
    target.protocol = 6;
  }
  if (portText !== '') {
    if (!/^\d{1,5}$/.test(portText) || checkPort(Number(portText))) {
      return fail(`port "${portText}" must be empty (3260) or an integer 1 to 65535`);
    }
    target.port = Number(portText);
  }
  if (lunField !== '') {
    const problem = checkLun(lunField);
    if (problem) return fail(problem);
    target.lun = lunField.includes('-') ? lunField.toLowerCase() : parseInt(lunField, 16);
  }
  if (!rest) return fail('target name is empty');
  const nameProblems = validateIscsiName(rest);
  if (nameProblems.length) return fail(`target name ${nameProblems.join('; ')}`);
  return { ok: true, target };
}
