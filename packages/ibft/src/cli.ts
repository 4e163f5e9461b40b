// CLI `ibft`: decode, locate, encode and import iSCSI Boot Firmware Tables.
// Exit codes: 0 success, 1 invalid or no table / invalid spec / cannot write (problems on stderr, nothing
// written), 2 usage error.
import { readFileSync } from 'node:fs';
import { decodeIbft, isValid } from './lib/decode';
import { encodeIbftReport } from './lib/encode';
import { formatJson, formatSysfsBytes, formatTable, predictIscsiadmFw } from './lib/format';
import { importIbft } from './lib/import';
import { type Candidate, locateIbft, NO_IBFT_FOUND } from './lib/locate';
import { IbftSpecError } from './lib/spec';
import type { DecodeResult, IbftTable, Problem } from './lib/structures';
import { writeFileAtomic } from './write-file';

const FORMATS = ['table', 'json', 'sysfs', 'iscsiadm'] as const;
type Format = (typeof FORMATS)[number];
const IMPORT_FORMATS = ['json', 'bin'] as const;
type ImportFormat = (typeof IMPORT_FORMATS)[number];

/** Where Linux exposes the firmware's ACPI tables; the iBFT's file is named after its signature. */
export const ACPI_TABLES = '/sys/firmware/acpi/tables';
export const DEFAULT_IMPORT_PATH = `${ACPI_TABLES}/iBFT`;

export const USAGE = `Usage:
  ibft decode <file> [--format table|json|sysfs|iscsiadm] [--offset N] [--base-address N] [--reveal-secrets]
  ibft locate <file> [--base-address N]
  ibft encode <spec.json> <out.bin>
  ibft import [<file>] [--out FILE] [--format json|bin] [--keep-secrets] [--base-address N]

decode  Read an iBFT from <file>: a bare table, or a memory dump searched like Linux does
        (BIOS scan of 0x80000-0x100000, ACPI RSDP/XSDT/RSDT, then every 16-byte boundary).
        --format          output format (default: table); sysfs prints what Linux shows under /sys/firmware/ibft
                          (exact bytes), iscsiadm what open-iscsi 2.1.8's iscsiadm -m fw prints (exit 1
                          when it would find no usable target, e.g. a nic-assoc to a missing NIC)
        --offset N        the table starts at byte N of the file (decimal or 0x hex); skips the search
        --base-address N  guest physical address of the file's first byte (default 0)
        --reveal-secrets  print CHAP secrets instead of ********
locate  List every iBFT candidate in <file> with its address and validity.
encode  Write a whole iBFT v1.03 to <out.bin> from <spec.json>: the model decode --format json prints
        (every field optional; decode's JSON encodes back to the same bytes). A bad spec is refused with
        each wrong field's JSON path and the fix, and nothing is written.
import  Read a real machine's table (default ${DEFAULT_IMPORT_PATH}, or IBFT/BIFT there; needs root),
        validate it and write it as a spec for encode (json, the default; stdout without --out) or as
        table bytes (bin, needs --out). CHAP secrets are replaced by placeholders ('*', same length)
        unless --keep-secrets.
        --out FILE        write here (whole or not at all); --format defaults from its extension (.bin)

Exit status: 0 success, 1 invalid table or none found, invalid spec, or a file that cannot be written
(problems on stderr, nothing written), 2 usage error.
`;

export interface CliIo {
  /** Text, or exact bytes (sysfs values are raw bytes, as Linux prints them). */
  stdout: (text: string | Uint8Array) => void;
  stderr: (text: string) => void;
}

class UsageError extends Error {}
/** A failure that is not a usage error: exit 1 with this message. */
class CliFailure extends Error {}

type Command = 'decode' | 'locate' | 'encode' | 'import';
const COMMANDS: Command[] = ['decode', 'locate', 'encode', 'import'];

interface Args {
  command: Command;
  files: string[];
  format: Format;
  importFormat?: ImportFormat;
  offset?: number;
  baseAddress: number;
  revealSecrets: boolean;
  keepSecrets: boolean;
  out?: string;
}

function parseNumber(flag: string, text: string | undefined): number {
  if (text === undefined) throw new UsageError(`${flag} needs a value, e.g. ${flag} 0x9e620`);
  const n = /^0x[0-9a-f]+$/i.test(text) ? parseInt(text, 16) : /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n)) throw new UsageError(`${flag} must be a non-negative number (decimal or 0x hex), got ${JSON.stringify(text)}`);
  return n;
}

function parseArgs(argv: string[]): Args {
  const [command, ...rest] = argv;
  if (!COMMANDS.includes(command as Command)) {
    throw new UsageError(command === undefined ? 'missing command' : `unknown command ${JSON.stringify(command)}; use ${COMMANDS.join(', ')}`);
  }
  const cmd = command as Command;
  const args: Args = { command: cmd, files: [], format: 'table', baseAddress: 0, revealSecrets: false, keepSecrets: false };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => (inline !== undefined ? inline : rest[++i]);
    if (flag === '--format' && cmd === 'decode') {
      const f = value();
      if (!(FORMATS as readonly string[]).includes(f ?? '')) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got ${JSON.stringify(f ?? '')}`);
      args.format = f as Format;
    } else if (flag === '--format' && cmd === 'import') {
      const f = value();
      if (!(IMPORT_FORMATS as readonly string[]).includes(f ?? '')) throw new UsageError(`--format for import must be json or bin, got ${JSON.stringify(f ?? '')}`);
      args.importFormat = f as ImportFormat;
    } else if (flag === '--offset' && cmd === 'decode') args.offset = parseNumber('--offset', value());
    else if (flag === '--base-address' && cmd !== 'encode') args.baseAddress = parseNumber('--base-address', value());
    else if (flag === '--reveal-secrets' && cmd === 'decode') args.revealSecrets = true;
    else if (flag === '--keep-secrets' && cmd === 'import') args.keepSecrets = true;
    else if ((flag === '--out' || flag === '-o') && cmd === 'import') {
      const o = value();
      if (!o) throw new UsageError('--out needs a file name, e.g. --out ibft.json');
      args.out = o;
    } else if (flag.startsWith('-') && flag !== '-') throw new UsageError(`unknown option ${flag} for ${cmd}`);
    else args.files.push(a);
  }
  const want = cmd === 'encode' ? 2 : cmd === 'import' ? 1 : 1;
  if (cmd === 'encode' && args.files.length !== 2) throw new UsageError('encode needs a spec and an output file: ibft encode <spec.json> <out.bin>');
  if (cmd === 'import' && args.files.length > 1) throw new UsageError(`unexpected argument ${JSON.stringify(args.files[1])}: import reads one file (write with --out FILE)`);
  if ((cmd === 'decode' || cmd === 'locate') && args.files.length === 0) throw new UsageError(`${cmd} needs a file: ibft ${cmd} <file>`);
  if (args.files.length > want) throw new UsageError(`unexpected argument ${JSON.stringify(args.files[want])}: give one file`);
  return args;
}

const hex = (n: number) => `0x${n.toString(16)}`;
/** How many candidates `decode` lists on stderr when a dump holds several. */
const NOTE_CANDIDATES = 10;

function problemLines(problems: Problem[]): string {
  return problems.map((p) => `${p.severity}: ${p.path || '(input)'}: ${p.message}\n`).join('');
}

function describeCandidate(c: Candidate): string {
  return `${hex(c.address)}  ${c.method.padEnd(11)}  ${c.signature.replace(/[^\x20-\x7e]/g, '?')}  length ${c.length}  ${c.valid ? 'valid' : 'invalid'}`;
}

function readInput(file: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message}`);
  }
}

function decodeCommand(args: Args, bytes: Uint8Array, io: CliIo): number {
  let result: DecodeResult;
  let where = '';
  if (args.offset !== undefined) {
    if (args.offset >= bytes.length) throw new UsageError(`--offset ${args.offset} is past the end of the ${bytes.length}-byte file`);
    result = decodeIbft(bytes.subarray(args.offset));
    where = `at offset ${hex(args.offset)}`;
  } else {
    const candidates = locateIbft(bytes, { baseAddress: args.baseAddress });
    const chosen = candidates.find((c) => c.valid) ?? candidates[0];
    if (!chosen) {
      io.stderr(`error: ${NO_IBFT_FOUND}\n`);
      return 1;
    }
    if (candidates.length > 1) {
      const shown = candidates.slice(0, NOTE_CANDIDATES).map((c) => `  ${describeCandidate(c)}\n`).join('');
      const more = candidates.length > NOTE_CANDIDATES ? `  ... and ${candidates.length - NOTE_CANDIDATES} more (ibft locate lists them all)\n` : '';
      io.stderr(`note: ${candidates.length} candidates:\n${shown}${more}`);
    }
    result = decodeIbft(bytes.subarray(chosen.offset));
    // A bare table is the 'bare' candidate at offset 0; a dump's table is the first valid candidate.
    where = `at ${hex(chosen.address)} (${chosen.method})`;
  }
  const valid = isValid(result);
  let consumerFails = false;
  if (result.table) {
    const options = { revealSecrets: args.revealSecrets };
    if (args.format === 'iscsiadm') {
      const fw = predictIscsiadmFw(result.table, options);
      io.stdout(fw.stdout);
      if (fw.exitCode !== 0) {
        consumerFails = true;
        io.stderr(`${fw.stderr}error: iscsiadm -m fw would exit ${fw.exitCode}: it finds no target it can use in this table\n`);
      }
      for (const u of fw.uncertain) io.stderr(`note: ${u}\n`);
    } else {
      io.stdout(
        args.format === 'json'
          ? `${formatJson(result.table, options)}\n`
          : args.format === 'sysfs'
            ? formatSysfsBytes(result.table, options)
            : formatTable(result.table, options),
      );
    }
  }
  if (result.problems.length) io.stderr(problemLines(result.problems));
  if (!valid) io.stderr(`error: the iBFT${where ? ` ${where}` : ''} is invalid\n`);
  return valid && !consumerFails ? 0 : 1;
}

function locateCommand(args: Args, bytes: Uint8Array, io: CliIo): number {
  const candidates = locateIbft(bytes, { baseAddress: args.baseAddress });
  for (const c of candidates) {
    io.stdout(`${describeCandidate(c)}\n`);
    for (const p of c.problems) io.stdout(`    ${p.severity}: ${p.path}: ${p.message}\n`);
  }
  if (!candidates.length) io.stderr('no iBFT candidate found\n');
  return candidates.some((c) => c.valid) ? 0 : 1;
}

function describeTable(t: IbftTable): string {
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  return `${t.header.signature}, ${count(t.nics.length, 'NIC')}, ${count(t.targets.length, 'target')}`;
}

function hasSecrets(t: IbftTable): boolean {
  return t.targets.some((x) => (x.chapSecret?.length ?? 0) > 0 || (x.reverseChapSecret?.length ?? 0) > 0);
}

function writeOut(path: string, data: Uint8Array | string, secret: boolean): void {
  try {
    // A file holding CHAP secrets is readable by its owner only.
    writeFileAtomic(path, data, secret ? 0o600 : 0o644);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'its folder does not exist' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new CliFailure(`cannot write ${path}: ${why}; nothing was written`);
  }
}

function encodeCommand(args: Args, io: CliIo): number {
  const [specFile, out] = args.files;
  const text = readInput(specFile);
  let spec: unknown;
  try {
    spec = JSON.parse(Buffer.from(text).toString('utf8'));
  } catch (e) {
    throw new CliFailure(`${specFile} is not JSON: ${(e as Error).message}: fix the syntax (decode --format json prints a spec)`);
  }
  let report;
  try {
    report = encodeIbftReport(spec);
  } catch (e) {
    if (!(e instanceof IbftSpecError)) throw e;
    io.stderr(e.errors.map((x) => `error: ${x.path || '(spec)'}: ${x.message}\n`).join(''));
    io.stderr(`error: ${specFile} is not a valid iBFT spec (${e.errors.length} problem${e.errors.length === 1 ? '' : 's'}); nothing written\n`);
    return 1;
  }
  if (report.warnings.length) io.stderr(problemLines(report.warnings));
  writeOut(out, report.bytes, hasSecrets(report.table));
  io.stdout(`wrote ${out}: ${report.bytes.length} bytes (${describeTable(report.table)})\n`);
  return 0;
}

function importSource(args: Args): { path: string; bytes: Uint8Array } {
  if (args.files[0] !== undefined) return { path: args.files[0], bytes: readInput(args.files[0]) };
  const tried: string[] = [];
  for (const sig of ['iBFT', 'IBFT', 'BIFT']) {
    const path = `${ACPI_TABLES}/${sig}`;
    try {
      return { path, bytes: new Uint8Array(readFileSync(path)) };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EACCES') throw new CliFailure(`cannot read ${path}: permission denied; the ACPI table files are readable by root only: run as root`);
      if (code !== 'ENOENT') throw new CliFailure(`cannot read ${path}: ${(e as Error).message}`);
      tried.push(path);
    }
  }
  throw new CliFailure(`this machine has no iBFT: none of ${tried.join(', ')} exists (its firmware left no table); give a file: ibft import <file>`);
}

function importCommand(args: Args, io: CliIo): number {
  const format: ImportFormat = args.importFormat ?? (args.out?.toLowerCase().endsWith('.bin') ? 'bin' : 'json');
  if (format === 'bin' && !args.out) throw new UsageError('import --format bin needs --out FILE (table bytes do not go to a terminal)');
  const source = importSource(args);
  const result = importIbft(source.bytes, { keepSecrets: args.keepSecrets, baseAddress: args.baseAddress });
  if (!result.ok) {
    if (result.problems.length) io.stderr(problemLines(result.problems));
    io.stderr(`error: ${source.path}: ${result.reason}; nothing written\n`);
    return 1;
  }
  if (result.problems.length) io.stderr(problemLines(result.problems));
  const c = result.candidate;
  io.stderr(`note: ${source.path}: ${c.method === 'bare' ? 'a bare table' : `the table at ${hex(c.address)} (${c.method})`}, ${c.length} bytes (${describeTable(result.table)})\n`);
  if (result.replaced.length) {
    io.stderr(`note: CHAP secrets replaced by placeholders ('*', same length): ${result.replaced.join(', ')}; the table will not log in as it is; pass --keep-secrets to keep them\n`);
  }
  if (result.kept.length) {
    io.stderr(`note: --keep-secrets: the output holds the CHAP secrets in clear (${result.kept.join(', ')})${args.out ? `; ${args.out} is written readable by its owner only` : ''}\n`);
  }
  const data = format === 'bin' ? result.bytes : result.spec;
  if (args.out) {
    writeOut(args.out, data, result.kept.length > 0);
    io.stderr(`note: wrote ${args.out} (${format})\n`);
  } else io.stdout(data);
  return 0;
}

/** Run the CLI with `argv` (without node and script); returns the exit code. */
export function main(argv: string[], io: CliIo = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) }): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout(USAGE);
    return 0;
  }
  try {
    const args = parseArgs(argv);
    if (args.command === 'encode') return encodeCommand(args, io);
    if (args.command === 'import') return importCommand(args, io);
    const bytes = readInput(args.files[0]);
    return args.command === 'decode' ? decodeCommand(args, bytes, io) : locateCommand(args, bytes, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`ibft: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    if (e instanceof CliFailure) {
      io.stderr(`error: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
