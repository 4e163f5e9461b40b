// ipxe-lint FILE... : lints iPXE scripts, prints `file:line:col: severity
// code message`. Exit 0 when no errors, 1 on errors, 2 on usage mistakes.
import { lintFiles } from '../lib/lint-files';

export const USAGE = `usage: ipxe-lint [--fail-on-warnings] FILE...
Lints iPXE scripts: missing #!ipxe, unknown commands, bad SAN URIs and iSCSI
names, sanhook/sanboot without "||". Exit 0 clean, 1 errors, 2 usage.`;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  cwd: string;
}

export function runIpxeLint(argv: string[], io: CliIo): number {
  const files: string[] = [];
  let failOnWarnings = false;
  for (const arg of argv) {
    if (arg === '-h' || arg === '--help') {
      io.out(USAGE);
      return 0;
    }
    if (arg === '--fail-on-warnings') failOnWarnings = true;
    else if (arg.startsWith('-') && arg !== '-') {
      io.err(`ipxe-lint: unknown option ${arg}\n${USAGE}`);
      return 2;
    } else files.push(arg);
  }
  if (!files.length) {
    io.err(`ipxe-lint: no files given\n${USAGE}`);
    return 2;
  }
  const report = lintFiles(files, io.cwd);
  for (const line of report.lines) io.out(line);
  return report.errors > 0 || (failOnWarnings && report.warnings > 0) ? 1 : 0;
}

if (require.main === module) {
  process.exitCode = runIpxeLint(process.argv.slice(2), {
    out: (l) => console.log(l),
    err: (l) => console.error(l),
    cwd: process.cwd(),
  });
}
