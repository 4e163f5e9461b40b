// What targetcli can carry. configshell has no quoting: a space, quote, brace
// or '=' in a value is split or cut silently (facts.md), so every name and
// secret is checked against a closed character set and rejected, never cut.
import { z } from 'zod';

/** Lab names become part of backstore names and of the derived IQN. */
export const LAB_NAME = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
/** A backstore's name inside the lab (no '_': it separates the ownership prefix). */
export const OBJECT_NAME = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
/** CHAP user names and secrets: printable ASCII that configshell and iPXE pass through unchanged. */
export const CHAP_CHARS = /^[A-Za-z0-9._~@:+-]+$/;
/** Absolute paths of backing files/devices: no spaces, quotes, '=' or shell specials. */
export const SAFE_PATH = /^\/[A-Za-z0-9._/+-]+$/;

const IQN = /^iqn\.\d{4}-(0[1-9]|1[0-2])\.[a-z0-9-]+(\.[a-z0-9-]+)+(:[a-z0-9.:-]+)?$/;
const EUI = /^eui\.[0-9a-f]{16}$/;
const NAA = /^naa\.([0-9a-f]{16}|[0-9a-f]{32})$/;

export function iscsiNameProblem(value: string): string | undefined {
  if (/[A-Z]/.test(value)) return 'has uppercase letters; iSCSI names are lowercase (rtslib lowercases them): write it in lowercase';
  if (!/^[a-z0-9.:-]+$/.test(value)) return "may hold only a-z, 0-9, '-', '.' and ':' (targetcli cannot quote anything else)";
  if (Buffer.byteLength(value) > 223) return 'is longer than 223 bytes (RFC 3720)';
  if (!(IQN.test(value) || EUI.test(value) || NAA.test(value))) {
    return 'is not an iSCSI name; expected e.g. iqn.2003-01.org.example:disk1, eui.<16 hex> or naa.<16 or 32 hex>';
  }
  return undefined;
}

export const iscsiName = z.string().superRefine((value, ctx) => {
  const problem = iscsiNameProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const objectName = z
  .string()
  .regex(OBJECT_NAME, "may hold only a-z, 0-9 and '-' (1 to 32 characters, not starting or ending with '-')");

export const labName = z
  .string()
  .regex(LAB_NAME, "may hold only a-z, 0-9 and '-' (1 to 32 characters, not starting or ending with '-')");

/** A CHAP user name. The message never repeats the value. */
export const chapUserid = z
  .string()
  .min(1, 'is empty')
  .max(255, 'is longer than 255 characters (LIO limit)')
  .regex(CHAP_CHARS, "may hold only A-Z a-z 0-9 and . _ ~ @ : + - (no spaces or quotes: targetcli cannot carry them)");

/** A CHAP secret: 12 to 16 characters is what RFC 3720 initiators (and Windows) accept everywhere. */
export const chapSecret = z
  .string()
  .min(12, 'is shorter than 12 characters (RFC 3720 §8.2.1 wants at least 12 for CHAP secrets)')
  .max(255, 'is longer than 255 characters (LIO limit)')
  .regex(CHAP_CHARS, "may hold only A-Z a-z 0-9 and . _ ~ @ : + - (no spaces or quotes: targetcli cannot carry them)");

export const safePath = z
  .string()
  .regex(SAFE_PATH, "must be an absolute path of A-Z a-z 0-9 . _ / + - only (targetcli cannot quote spaces or quotes)");

export const ipv4 = z
  .string()
  .regex(/^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/, 'must be an IPv4 address such as 0.0.0.0 or 10.0.2.15');
