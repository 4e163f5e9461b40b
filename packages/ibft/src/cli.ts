// CLI `ibft`: decode an iBFT from a bare table file or a guest-memory dump.
// Exit codes: 0 valid table, 1 invalid or no table (problems on stderr), 2 usage error.
import { readFileSync } from 'node:fs';
import { decodeIbft, isValid } from './lib/decode';
import { formatJson, formatSysfsBytes, formatTable, predictIscsiadmFw } from './lib/format';
import { type Candidate, locateIbft, NO_IBFT_FOUND } from './lib/locate';
import type { DecodeResult, Problem } from './lib/structures';

const FORMATS = ['table', 'json', 'sysfs', 'iscsiadm'] as const;
type Format = (typeof FORMATS)[number];

export const USAGE = `Usage:
  ibft decode <file> [--format table|json|sysfs|iscsiadm] [--offset N] [--base-address N] [--reveal-secrets]
  ibft locate <file> [--base-address N]

decode  Read an iBFT from <file>: a bare table, or a memory dump searched like Linux does
        (BIOS scan of 0x80000-0x100000, ACPI RSDP/XSDT/RSDT, then every 16-byte boundary).
        --format          output format (default: table); sysfs prints what Linux shows under /sys/firmware/ibft
                          (exact bytes), iscsiadm what open-iscsi 2.1.8's iscsiadm -m fw prints (exit 1
                          when it would find no usable target, e.g. a nic-assoc to a missing NIC)
        --offset N        the table starts at byte N of the file (decimal or 0x hex); skips the search
        --base-address N  guest physical address of the file's first byte (default 0)
        --reveal-secrets  print CHAP secrets instead of ********
locate  List every iBFT candidate in <file> with its address and validity.

Exit status: 0 valid table, 1 invalid table or none found (problems on stderr), 2 usage error.
`;

export interface CliIo {
  /** Text, or exact bytes (sysfs values are raw bytes, as Linux prints them). */
  stdout: (text: string | Uint8Array) => void;
  stderr: (text: string) => void;
}

class UsageError extends Error {}

interface Args {
  command: 'decode' | 'locate';
  file: string;
  format: Format;
  offset?: number;
  baseAddress: number;
  revealSecrets: boolean;
}

function parseNumber(flag: string, text: string | undefined): number {
  if (text === undefined) throw new UsageError(`${flag} needs a value, e.g. ${flag} 0x9e620`);
  const n = /^0x[0-9a-f]+$/i.test(text) ? parseInt(text, 16) : /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n)) throw new UsageError(`${flag} must be a non-negative number (decimal or 0x hex), got ${JSON.stringify(text)}`);
  return n;
}

function parseArgs(argv: string[]): Args {
  const [command, ...rest] = argv;
  if (command !== 'decode' && command !== 'locate') {
    throw new UsageError(command === undefined ? 'missing command' : `unknown command ${JSON.stringify(command)}; use decode or locate`);
  }
  const args: Partial<Args> & { command: Args['command'] } = { command, format: 'table', baseAddress: 0, revealSecrets: false };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => (inline !== undefined ? inline : rest[++i]);
    if (flag === '--format' && command === 'decode') {
      const f = value();
      if (!(FORMATS as readonly string[]).includes(f ?? '')) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got ${JSON.stringify(f ?? '')}`);
      args.format = f as Format;
    } else if (flag === '--offset' && command === 'decode') args.offset = parseNumber('--offset', value());
    else if (flag === '--base-address') args.baseAddress = parseNumber('--base-address', value());
    else if (flag === '--reveal-secrets' && command === 'decode') args.revealSecrets = true;
    else if (flag.startsWith('-')) throw new UsageError(`unknown option ${flag} for ${command}`);
    else if (args.file === undefined) args.file = a;
    else throw new UsageError(`unexpected argument ${JSON.stringify(a)}: give one file`);
  }
  if (!args.file) throw new UsageError(`${command} needs a file: ibft ${command} <file>`);
  return args as Args;
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

/** Run the CLI with `argv` (without node and script); returns the exit code. */
export function main(argv: string[], io: CliIo = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) }): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout(USAGE);
    return 0;
  }
  try {
    const args = parseArgs(argv);
    const bytes = readInput(args.file);
    return args.command === 'decode' ? decodeCommand(args, bytes, io) : locateCommand(args, bytes, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`ibft: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
}
