// What Linux's iscsi_ibft module shows under /sys/firmware/ibft, one
// `kobject/attribute=value` line per file, sorted (C locale). Which kobjects
// and attributes exist and their bytes come from ../linux.ts (iscsi_ibft.c).
import { linuxSysfs } from '../linux';
import type { IbftTable } from '../structures';
import { type FormatOptions, MASKED_SECRET } from './options';

export interface SysfsFile {
  /** e.g. `target0/ip-addr` (relative to /sys/firmware/ibft). */
  path: string;
  /** The exact bytes of the file (secrets masked unless revealed). */
  content: Buffer;
}

/** Every file Linux would create under /sys/firmware/ibft, sorted by path; none when Linux refuses the table. */
export function sysfsFiles(table: IbftTable, options?: FormatOptions): SysfsFile[] {
  const files: SysfsFile[] = [];
  for (const k of linuxSysfs(table).kobjects) {
    for (const a of k.attributes) {
      const content = a.secret && !options?.revealSecrets ? `${MASKED_SECRET}\n` : a.content;
      files.push({ path: `${k.name}/${a.name}`, content: Buffer.from(content, 'latin1') });
    }
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** A file as one line: its bytes without the one trailing newline Linux prints (subnet-mask has none). */
function lineBytes(f: SysfsFile): Buffer {
  const c = f.content;
  const body = c.length && c[c.length - 1] === 0x0a ? c.subarray(0, c.length - 1) : c;
  return Buffer.concat([Buffer.from(`${f.path}=`, 'latin1'), body]);
}

/**
 * The lines `kobject/attribute=value`, sorted, as text. Values that are not valid UTF-8 show U+FFFD here;
 * formatSysfsBytes gives the exact bytes. Empty when Linux would show nothing (see linuxSysfs).
 */
export function formatSysfs(table: IbftTable, options?: FormatOptions): string[] {
  return sysfsFiles(table, options).map((f) => lineBytes(f).toString('utf8'));
}

/** The same lines, each ending in "\n", as the exact bytes Linux's files hold (raw string bytes included). */
export function formatSysfsBytes(table: IbftTable, options?: FormatOptions): Buffer {
  return Buffer.concat(sysfsFiles(table, options).flatMap((f) => [lineBytes(f), Buffer.from('\n')]));
}
