// iSCSI names (RFC 3720 §3.2.6, RFC 3721 §2) and CHAP credentials, checked
// against what both ends of this project can carry: iPXE scripts (split on
// whitespace, `${...}` expanded) and LIO's targetcli/rtslib (configshell has
// no quoting, so a space, quote or brace silently splits or cuts a value;
// facts.md). We reject rather than escape or truncate.
import { z } from 'zod';

/** RFC 3720 §3.2.6.1: an iSCSI name is at most 223 bytes (UTF-8). */
export const ISCSI_NAME_MAX_BYTES = 223;

// After RFC 3722 stringprep an iSCSI name holds only lowercase letters,
// digits, '-', '.' and ':'. We accept ASCII only: non-ASCII names are legal
// but targetcli and iPXE scripts cannot be trusted to carry them.
const ISCSI_NAME_CHARS = /^[a-z0-9.:-]+$/;
// rtslib-fb: iqn\.[0-9]{4}-[0-1][0-9]\..*\..* , no spaces, no underscores.
const IQN = /^iqn\.(\d{4})-(\d{2})\.([a-z0-9-]+(?:\.[a-z0-9-]+)+)(?::(.*))?$/;
// RFC 3720: "eui." + 16 hex digits (EUI-64). rtslib wants lowercase.
const EUI = /^eui\.[0-9a-f]{16}$/;
// RFC 3720/3980: "naa." + 16 or 32 hex digits (64- or 128-bit NAA).
const NAA = /^naa\.(?:[0-9a-f]{16}|[0-9a-f]{32})$/;

/**
 * Problems with an iSCSI name (IQN, EUI or NAA format); empty when valid.
 * Each message says what is wrong and what a valid name looks like.
 */
export function validateIscsiName(name: string): string[] {
  const problems: string[] = [];
  if (typeof name !== 'string' || name.length === 0) {
    return ['is empty; expected e.g. iqn.2003-01.org.example:disk1, eui.0123456789abcdef or naa.0123456789abcdef'];
  }
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > ISCSI_NAME_MAX_BYTES) {
    problems.push(`is ${bytes} bytes long; iSCSI names are at most ${ISCSI_NAME_MAX_BYTES} bytes (RFC 3720)`);
  }
  if (/[A-Z]/.test(name)) {
    problems.push('contains uppercase letters; iSCSI names are lowercase (RFC 3722 folds case, rtslib lowercases): write it in lowercase');
  }
  const bad = [...new Set([...name.toLowerCase()].filter((c) => !/[a-z0-9.:-]/.test(c)))];
  if (bad.length) {
    problems.push(
      `contains ${bad.map(describeChar).join(', ')}; only a-z, 0-9, '-', '.' and ':' are allowed (targetcli cannot quote anything else)`,
    );
  }
  if (problems.length) return problems;
  if (!ISCSI_NAME_CHARS.test(name)) return ['has characters outside a-z 0-9 - . :'];

  if (name.startsWith('iqn.')) {
    const m = IQN.exec(name);
    if (!m) {
      return [
        'is not a valid IQN; expected iqn.<yyyy>-<mm>.<reversed domain with at least one dot>[:<unique name>], e.g. iqn.2003-01.org.example:disk1',
      ];
    }
    const month = Number(m[2]);
    if (month < 1 || month > 12) problems.push(`has month ${m[2]} in its date; use 01 to 12`);
    if (m[3].split('.').some((label) => label.startsWith('-') || label.endsWith('-'))) {
      problems.push('has a domain label that starts or ends with "-"');
    }
    if (m[4] !== undefined && m[4].length === 0) problems.push('ends with ":"; add a unique name after it or drop the colon');
    return problems;
  }
  if (name.startsWith('eui.')) {
    return EUI.test(name) ? [] : ['is not a valid EUI name; expected "eui." and 16 hex digits, e.g. eui.02004567a425678d'];
  }
  if (name.startsWith('naa.')) {
    return NAA.test(name) ? [] : ['is not a valid NAA name; expected "naa." and 16 or 32 hex digits, e.g. naa.52004567ba64678d'];
  }
  return ['does not start with "iqn.", "eui." or "naa."; e.g. iqn.2003-01.org.example:disk1'];
}

function describeChar(c: string): string {
  if (c === ' ') return 'a space';
  if (c === '\t') return 'a tab';
  const code = c.codePointAt(0) ?? 0;
  return code < 0x20 || code === 0x7f ? `control character 0x${code.toString(16)}` : `"${c}"`;
}

export const iscsiNameSchema = z
  .string()
  .superRefine((name, ctx) => {
    for (const problem of validateIscsiName(name)) ctx.addIssue({ code: 'custom', message: `iSCSI name ${problem}` });
  })
  .describe('An iSCSI name: iqn.<yyyy>-<mm>.<reversed domain>[:<name>], eui.<16 hex> or naa.<16|32 hex>; lowercase, at most 223 bytes.');

/**
 * CHAP user names: letters, digits and `. _ : @ -`, 1 to 255 characters.
 * Nothing iPXE would split or expand (whitespace, `$`, quotes, `\`) and
 * nothing configshell would split (`=`, space, braces); LIO's limit is 255.
 */
export const CHAP_USERNAME_PATTERN = /^[A-Za-z0-9._:@-]{1,255}$/;

/**
 * CHAP secrets: 12 to 16 characters of letters, digits and `. _ ~ + -`.
 * RFC 3720 asks for at least 96 bits (12 bytes); Microsoft's initiator and
 * many targets accept 12 to 16 only. LIO accepts other lengths, but a lab
 * secret that every common initiator/target takes is worth the restriction.
 */
export const CHAP_SECRET_PATTERN = /^[A-Za-z0-9._~+-]+$/;
export const CHAP_SECRET_MIN = 12;
export const CHAP_SECRET_MAX = 16;

export const chapUsernameSchema = z
  .string()
  .regex(CHAP_USERNAME_PATTERN, {
    message: 'CHAP user name must be 1-255 characters of A-Z a-z 0-9 . _ : @ - (no spaces, quotes, $ or braces: iPXE and targetcli cannot carry them)',
  })
  .describe('CHAP user name: 1-255 characters of A-Z a-z 0-9 . _ : @ -');

// Messages never echo the secret itself.
export const chapSecretSchema = z
  .string()
  .min(CHAP_SECRET_MIN, { message: `CHAP secret must be ${CHAP_SECRET_MIN}-${CHAP_SECRET_MAX} characters long (RFC 3720 wants at least 96 bits; many initiators/targets accept at most 16)` })
  .max(CHAP_SECRET_MAX, { message: `CHAP secret must be ${CHAP_SECRET_MIN}-${CHAP_SECRET_MAX} characters long (many initiators/targets accept at most 16)` })
  .regex(CHAP_SECRET_PATTERN, {
    message: 'CHAP secret may contain only A-Z a-z 0-9 . _ ~ + - (no spaces, quotes, $ or braces: iPXE and targetcli cannot carry them)',
  })
  .describe('CHAP secret: 12-16 characters of A-Z a-z 0-9 . _ ~ + -');
