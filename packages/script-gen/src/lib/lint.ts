// Checks a hand-written iPXE script for mistakes iPXE itself would only
// reveal at boot time: no signature, unknown commands, malformed SAN URIs
// or iSCSI names, and SAN commands whose failure silently ends the script.
import type { Diagnostic } from './diagnostic';
import { validateIscsiName } from './iscsi-name';
import { IPXE_COMMANDS, SAN_ATTACH_COMMANDS } from './ipxe-commands';
import { hasIpxeSignature, lexScript, type ScriptLine, type Token } from './lexer';
import { parseSanUri } from './san-uri';

/** Options of sanhook/sanboot that take a value. */
const SAN_VALUE_OPTIONS = new Set(['--drive', '-d', '--filename', '-f', '--extra', '-e', '--label', '-l', '--uuid', '-u']);

const dynamic = (text: string) => text.includes('${');

export function lintScript(text: string): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  if (!hasIpxeSignature(text)) {
    diagnostics.push({
      line: 1,
      column: 1,
      severity: 'error',
      code: 'missing-shebang',
      message: 'script must start with "#!ipxe" on its first line, or iPXE will not run it as a script',
    });
  }
  for (const line of lexScript(text)) lintLine(line, diagnostics);
  return diagnostics.sort((a, b) => a.line - b.line || a.column - b.column);
}

function lintLine(line: ScriptLine, out: Diagnostic[]): void {
  line.segments.forEach((segment, index) => {
    const [command, ...args] = segment.words;
    if (!command) return;
    if (!dynamic(command.text) && !IPXE_COMMANDS.has(command.text)) {
      out.push({
        line: command.line,
        column: command.column,
        severity: 'error',
        code: 'unknown-command',
        message: `unknown iPXE command "${command.text}"`,
      });
      return;
    }
    if (SAN_ATTACH_COMMANDS.has(command.text)) {
      for (const uri of sanUris(args)) checkUri(uri, out);
      // A failure skips to the next "||" on the line; with none, the script ends.
      const caught = line.segments.slice(index).some((s) => s.operator?.kind === '||');
      if (!caught) {
        out.push({
          line: command.line,
          column: command.column,
          severity: 'warning',
          code: 'san-without-fallback',
          message: `"${command.text}" has no "||": if the target cannot be reached the script ends here (append " ||" to keep going)`,
        });
      }
    }
    if (command.text === 'set' && args.length >= 2) {
      const setting = args[0].text.replace(/:.*$/, '');
      const value = args[1];
      if (setting === 'initiator-iqn' && args.length === 2 && !dynamic(value.text)) {
        const problems = validateIscsiName(value.text);
        if (problems.length) {
          out.push({ ...at(value), severity: 'error', code: 'bad-iqn', message: `initiator-iqn ${problems.join('; ')}` });
        }
      }
      if (setting === 'root-path' && args.length === 2 && value.text.startsWith('iscsi:')) checkUri(value, out);
    }
  });
}

function at(token: Token): { line: number; column: number } {
  return { line: token.line, column: token.column };
}

function sanUris(args: Token[]): Token[] {
  const uris: Token[] = [];
  for (let i = 0; i < args.length; i++) {
    const word = args[i].text;
    if (word.startsWith('-')) {
      if (SAN_VALUE_OPTIONS.has(word)) i++;
      continue;
    }
    uris.push(args[i]);
  }
  return uris;
}

function checkUri(uri: Token, out: Diagnostic[]): void {
  if (dynamic(uri.text) || !uri.text.startsWith('iscsi:')) return; // other SAN protocols: not ours to judge
  const parsed = parseSanUri(uri.text);
  if (parsed.ok) return;
  const nameProblem = parsed.message.startsWith('target name');
  out.push({
    line: uri.line,
    column: nameProblem ? uri.column + targetNameOffset(uri.text) : uri.column,
    severity: 'error',
    code: nameProblem ? 'bad-iqn' : 'bad-san-uri',
    message: nameProblem ? parsed.message : `bad SAN URI: ${parsed.message}`,
  });
}

/** Offset of the target name within a well-formed-enough iSCSI URI. */
function targetNameOffset(uri: string): number {
  let rest = uri.slice('iscsi:'.length);
  let offset = 'iscsi:'.length;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']') + 1;
    offset += close;
    rest = rest.slice(close);
  }
  for (let colons = 4; colons > 0; colons--) {
    const next = rest.indexOf(':');
    if (next < 0) return 0;
    offset += next + 1;
    rest = rest.slice(next + 1);
  }
  return offset;
}
