export type Severity = 'error' | 'warning' | 'info';

export interface Diagnostic {
  /** 1-based line and column. */
  line: number;
  column: number;
  severity: Severity;
  /** Stable identifier, e.g. missing-shebang, unknown-command, bad-san-uri, bad-iqn, san-without-fallback. */
  code: string;
  message: string;
}

export function formatDiagnostic(file: string, d: Diagnostic): string {
  return `${file}:${d.line}:${d.column}: ${d.severity} ${d.code} ${d.message}`;
}
