// Running targetcli over a transport. Each start costs 1.4–1.8 s on the
// appliance (facts.md), so callers batch: one one-shot `saveconfig` to read,
// one piped script to change. targetcli runs with its own TARGETCLI_HOME so
// our `auto_save_on_exit=false` never changes the machine's own preferences.
import { parseLiveState, type LiveState } from './live-state';
import type { Transport } from './transport';

export const TARGETCLI_HOME = '/var/lib/ibft-lab/targetcli-home';

export interface TargetcliSession {
  transport: Transport;
  /** How many times targetcli was started (for the bench and the apply report). */
  starts: number;
}

export function targetcliSession(transport: Transport): TargetcliSession {
  return { transport, starts: 0 };
}

/** The live configuration as rtslib dumps it: one targetcli start. */
export async function readLiveState(session: TargetcliSession): Promise<LiveState> {
  session.starts += 1;
  const result = await session.transport.run([
    'sh',
    '-c',
    'f=$(mktemp /tmp/ibft-lab-saveconfig.XXXXXX) || exit 1; targetcli saveconfig "$f" >/dev/null 2>/tmp/ibft-lab-saveconfig.err; rc=$?; if [ $rc = 0 ]; then cat "$f"; else cat /tmp/ibft-lab-saveconfig.err >&2; fi; rm -f "$f" /tmp/ibft-lab-saveconfig.err; exit $rc',
  ]);
  if (result.code !== 0) {
    throw new Error(`${session.transport.description}: targetcli saveconfig failed (exit ${result.code}): ${result.stderr.trim().slice(-2000)}`);
  }
  return parseLiveState(result.stdout);
}

/**
 * Pipes a script of targetcli lines into one targetcli process. It exits 0
 * even when lines fail (facts.md), so the caller must re-read and re-plan.
 */
export async function runTargetcliScript(session: TargetcliSession, lines: string[]): Promise<{ output: string }> {
  session.starts += 1;
  const script = ['set global auto_save_on_exit=false', ...lines, 'exit', ''].join('\n');
  const result = await session.transport.run(['sh', '-c', 'mkdir -p "$1" && TARGETCLI_HOME="$1" exec targetcli', 'sh', TARGETCLI_HOME], {
    stdin: script,
  });
  return { output: `${result.stdout}\n${result.stderr}`.trim() };
}

/** Replaces every secret in `text` by asterisks (targetcli echoes "Parameter password is now '…'"). */
export function maskSecrets(text: string, secrets: string[]): string {
  let masked = text;
  for (const secret of secrets.filter(Boolean).sort((a, b) => b.length - a.length)) masked = masked.split(secret).join('********');
  return masked;
}
