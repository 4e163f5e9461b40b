// Lints script files and formats the result the way compilers do
// (`file:line:col: severity code message`), for the lint executor and the
// ipxe-lint bin.
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { formatDiagnostic, type Diagnostic } from './diagnostic';
import { lintScript } from './lint';

export interface FileDiagnostics {
  file: string;
  diagnostics: Diagnostic[];
}

export interface LintReport {
  files: FileDiagnostics[];
  errors: number;
  warnings: number;
  /** One line per diagnostic. */
  lines: string[];
}

export function lintFiles(files: string[], cwd: string): LintReport {
  const results: FileDiagnostics[] = [];
  for (const file of files) {
    const path = isAbsolute(file) ? file : join(cwd, file);
    if (!existsSync(path)) {
      results.push({ file, diagnostics: [{ line: 1, column: 1, severity: 'error', code: 'file-not-found', message: 'no such file' }] });
      continue;
    }
    results.push({ file, diagnostics: lintScript(readFileSync(path, 'utf8')) });
  }
  const all = results.flatMap((r) => r.diagnostics);
  return {
    files: results,
    errors: all.filter((d) => d.severity === 'error').length,
    warnings: all.filter((d) => d.severity === 'warning').length,
    lines: results.flatMap((r) => r.diagnostics.map((d) => formatDiagnostic(r.file, d))),
  };
}
