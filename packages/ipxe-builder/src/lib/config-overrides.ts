// Config overrides → iPXE's config/local/<file>.h. iPXE includes each
// config/local/<file>.h at the end of config/<file>.h, so a local header can
// #undef a default and define its own value. Every define is preceded by an
// #undef: redefining a macro with a different value is an error under -Werror.

/** A C expression kept verbatim (e.g. `( 2 * BANNER_TIMEOUT )`). */
export interface CExpression {
  expr: string;
}
/** true → `#define X`; false → `#undef X`; number → `#define X n`; string → `#define X "s"`. */
export type OverrideValue = boolean | number | string | CExpression;
/** { general: { BANNER_TIMEOUT: 0, NSLOOKUP_CMD: true }, console: { CONSOLE_SERIAL: true } } */
export type ConfigOverrides = Record<string, Record<string, OverrideValue>>;

const FILE_NAME = /^[a-z][a-z0-9_]*$/;
const C_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
// An expression may use numbers, identifiers, operators and parentheses; no
// quotes, comments, preprocessor directives or line breaks.
const C_EXPRESSION = /^[A-Za-z0-9_ ()+\-*/%|&^~<>!.,?:]+$/;
const C_STRING_TEXT = /^[\x20-\x7e]*$/;

/** `base` with `overrides` on top, file by file and macro by macro (`overrides` wins). */
export function mergeOverrides(base: ConfigOverrides = {}, overrides: ConfigOverrides = {}): ConfigOverrides {
  const merged: ConfigOverrides = {};
  for (const file of new Set([...Object.keys(base), ...Object.keys(overrides)])) merged[file] = { ...base[file], ...overrides[file] };
  return merged;
}

export const GENERATED_HEADER = '/* Written by @ibft-lab/ipxe-builder from the build-rom overrides. */';

function defineLine(file: string, name: string, value: OverrideValue): string[] {
  const where = `overrides.${file}.${name}`;
  if (!C_IDENTIFIER.test(name)) {
    throw new Error(`${where}: "${name}" is not a C macro name (letters, digits and _; not starting with a digit)`);
  }
  if (value === false) return [`#undef ${name}`];
  if (value === true) return [`#undef ${name}`, `#define ${name}`];
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new Error(`${where}: ${value} is not an integer; use { "expr": "..." } for anything else`);
    return [`#undef ${name}`, `#define ${name} ${value}`];
  }
  if (typeof value === 'string') {
    if (!C_STRING_TEXT.test(value)) {
      throw new Error(`${where}: a string value may hold printable ASCII only (no line breaks or control characters)`);
    }
    const literal = value.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
    return [`#undef ${name}`, `#define ${name} "${literal}"`];
  }
  if (value && typeof value === 'object' && typeof value.expr === 'string') {
    const expr = value.expr.trim();
    if (!expr || !C_EXPRESSION.test(expr) || expr.includes('/*') || expr.includes('//')) {
      throw new Error(
        `${where}: expr "${value.expr}" may hold numbers, macro names, operators and parentheses only (no quotes, comments or line breaks)`,
      );
    }
    return [`#undef ${name}`, `#define ${name} ${expr}`];
  }
  throw new Error(`${where}: value must be true, false, an integer, a string or { "expr": "<C expression>" }`);
}

/**
 * Renders the overrides as config/local header contents, keyed by file name
 * (`general.h`). Files and macros are sorted so equal overrides give equal
 * bytes.
 */
export function renderOverrides(overrides: ConfigOverrides = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const file of Object.keys(overrides).sort()) {
    if (!FILE_NAME.test(file)) {
      throw new Error(
        `overrides: "${file}" is not an iPXE config file name (use the name without .h, e.g. "general" for config/general.h)`,
      );
    }
    const macros = overrides[file] ?? {};
    if (typeof macros !== 'object' || Array.isArray(macros)) {
      throw new Error(`overrides.${file} must be an object of macro names to values`);
    }
    const lines = Object.keys(macros)
      .sort()
      .flatMap((name) => defineLine(file, name, macros[name] as OverrideValue));
    out[`${file}.h`] = `${GENERATED_HEADER}\n${lines.join('\n')}\n`;
  }
  return out;
}

/**
 * The header to write into a build tree: the source's own config/local file
 * (if any) first, our overrides after it so they win.
 */
export function mergeLocalHeader(existing: string | undefined, rendered: string): string {
  if (!existing) return rendered;
  return `${existing.endsWith('\n') ? existing : `${existing}\n`}\n${rendered}`;
}
