// Expands the file patterns the lint executor takes (plain paths, `*`, `?`,
// `**`) against a directory tree, without a glob dependency. Dot folders,
// node_modules and dist are never searched.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

const SKIP = new Set(['node_modules', 'dist', '.git', '.nx', '.cache']);

export function globToRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' && pattern[i + 1] === '*') {
      // "**/" matches zero or more folders; a trailing "**" matches everything.
      if (pattern[i + 2] === '/') {
        out += '(?:.*/)?';
        i += 2;
      } else {
        out += '.*';
        i += 1;
      }
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

function walk(root: string, dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || SKIP.has(entry.name)) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) walk(root, full, out);
    else if (entry.isFile()) out.push(relative(root, full).split(sep).join('/'));
  }
}

/**
 * Files under `root` matching any pattern, sorted, relative to root. A
 * pattern without wildcards names a file directly (it need not exist: the
 * caller reports it as missing).
 */
export function findFiles(root: string, patterns: string[]): string[] {
  const found = new Set<string>();
  const globs: RegExp[] = [];
  for (const pattern of patterns) {
    if (/[*?]/.test(pattern)) globs.push(globToRegExp(pattern.replace(/^\.\//, '')));
    else found.add(pattern.replace(/^\.\//, ''));
  }
  if (globs.length) {
    const all: string[] = [];
    if (existsSync(root) && statSync(root).isDirectory()) walk(root, root, all);
    for (const file of all) if (globs.some((g) => g.test(file))) found.add(file);
  }
  return [...found].sort();
}
