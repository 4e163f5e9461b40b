// Running targetcli over a transport. Each start costs 1.4–1.8 s on the
// appliance (facts.md), so callers batch: reads go to rtslib directly (no
// targetcli start), changes are one piped script. targetcli runs with its own TARGETCLI_HOME so
// our `auto_save_on_exit=false` never changes the machine's own preferences.
// A machine that runs ibft-lab's LIO agent (the appliance) gets both from
// its warm targetcli instead: no process starts at all.
import { randomBytes } from 'node:crypto';
import { askLioAgent, LioAgentUnreachable } from './lio-agent-client';
import { parseLiveState, type LiveState } from './live-state';
import type { Transport } from './transport';

export const TARGETCLI_HOME = '/var/lib/ibft-lab/targetcli-home';

export interface TargetcliSession {
  transport: Transport;
  /** How many times targetcli was started (for the bench and the apply report). */
  starts: number;
  /** Requests the machine's LIO agent answered (its warm targetcli and rtslib). */
  agentRequests: number;
  /** Why the agent the transport names was not used (it could not be reached): processes were started instead. */
  agentUnreachable?: string;
  /** Where each run the agent answered spent its time: targetcli's tree refresh, each line, the dump after. */
  agentSeconds: { refresh: number; lines: number[]; dump: number }[];
}

export function targetcliSession(transport: Transport): TargetcliSession {
  return { transport, starts: 0, agentRequests: 0, agentSeconds: [] };
}

function agentKnown(session: TargetcliSession): boolean {
  return session.transport.lioAgentPort !== undefined && session.agentUnreachable === undefined;
}

/** The agent's reply, or undefined when it could not be reached (nothing was sent: the caller starts processes). */
async function viaAgent(session: TargetcliSession, request: Parameters<typeof askLioAgent>[1]) {
  if (!agentKnown(session)) return undefined;
  try {
    const reply = await askLioAgent(session.transport, request);
    session.agentRequests += 1;
    return reply;
  } catch (error) {
    if (!(error instanceof LioAgentUnreachable)) throw error;
    session.agentUnreachable = error.message;
    return undefined;
  }
}

/**
 * rtslib's dump of the live configuration, the same JSON `targetcli saveconfig`
 * writes (its saveconfig is rtslib's save_to_file of RTSRoot().dump()), read by
 * rtslib alone: without targetcli's shell and UI tree the read costs a
 * fraction of a targetcli start. Exit 98: no rtslib_fb here, use targetcli.
 */
const RTSLIB_DUMP = [
  'import json, sys',
  'try:',
  '    from rtslib_fb import RTSRoot',
  'except ImportError:',
  '    sys.exit(98)',
  'sys.stdout.write(json.dumps(RTSRoot().dump(), sort_keys=True))',
].join('\n');

const TARGETCLI_SAVECONFIG =
  'f=$(mktemp /tmp/ibft-lab-saveconfig.XXXXXX) || exit 1; targetcli saveconfig "$f" >/dev/null 2>/tmp/ibft-lab-saveconfig.err; rc=$?; if [ $rc = 0 ]; then cat "$f"; else cat /tmp/ibft-lab-saveconfig.err >&2; fi; rm -f "$f" /tmp/ibft-lab-saveconfig.err; exit $rc';

/** The live configuration as rtslib dumps it: by rtslib itself where it is importable, else one targetcli start. */
export async function readLiveState(session: TargetcliSession): Promise<LiveState> {
  const reply = await viaAgent(session, { op: 'dump' });
  if (reply) return parseLiveState(reply.state ?? {});
  let result = await session.transport.run(['python3', '-c', RTSLIB_DUMP]);
  if (result.code === 98 || result.code === 127) {
    session.starts += 1;
    result = await session.transport.run(['sh', '-c', TARGETCLI_SAVECONFIG]);
  }
  if (result.code !== 0) {
    throw new Error(`${session.transport.description}: reading the LIO configuration failed (exit ${result.code}): ${result.stderr.trim().slice(-2000)}`);
  }
  return parseLiveState(result.stdout);
}

/** The last line of every script we send: the machine runs nothing that arrived without it. */
export const SCRIPT_END = '# ibft-lab: end of script';

/** Between targetcli's output and the state its last command saved (stdout). */
const STATE_SEPARATOR = '# ibft-lab: the state targetcli left';

/**
 * Runs the whole script only once it has arrived whole, and to its end even
 * when the connection drops meanwhile (SIGHUP and SIGPIPE ignored, input and
 * output in files), so a lost connection leaves the old state or the new one,
 * never half. targetcli exits 0 even when lines fail (facts.md): the caller
 * must re-read and re-plan.
 */
const RUN_WHOLE_SCRIPT = [
  'trap "" HUP PIPE',
  'f=$(mktemp /tmp/ibft-lab-targetcli.XXXXXX) || exit 1',
  'cat > "$f"',
  `if [ "$(tail -n 1 "$f")" != "${SCRIPT_END}" ]; then rm -f "$f"; echo "ibft-lab: the targetcli script arrived incomplete; nothing was run" >&2; exit 97; fi`,
  'mkdir -p "$1" && chmod 700 "$1"',
  // configshell logs every command line, CHAP secrets and all, to $TARGETCLI_HOME/log.txt (world-readable): to nowhere.
  'ln -sf /dev/null "$1/log.txt"',
  // The script's last command may save the state it left (saveStateAfter) here: never a file that was there before.
  'rm -f "$2"',
  'sed \'$d\' "$f" | TARGETCLI_HOME="$1" targetcli > "$f.out" 2>&1',
  'rc=$?',
  'cat "$f.out"',
  `if [ -s "$2" ]; then echo; echo "${STATE_SEPARATOR}"; cat "$2"; fi`,
  'rm -f "$f" "$f.out" "$2"',
  'exit $rc',
].join('\n');

export interface TargetcliScriptOptions {
  /**
   * End the script with `saveconfig` to a scratch file and return what it
   * saved: the live state after every command, read by the rtslib targetcli
   * already loaded (its saveconfig is rtslib's dump, the JSON readLiveState
   * reads), so verifying an apply needs no second python start. Absent when
   * targetcli did not get that far: the caller reads the state anew.
   */
  saveStateAfter?: boolean;
}

export async function runTargetcliScript(
  session: TargetcliSession,
  lines: string[],
  options: TargetcliScriptOptions = {},
): Promise<{ output: string; stateAfter?: LiveState }> {
  // The agent runs the lines in its warm targetcli (whole once they arrived, like the script below) and dumps the state after.
  const reply = await viaAgent(session, { op: 'run', lines });
  if (reply) {
    session.agentSeconds.push({ refresh: reply.seconds?.[0] ?? 0, lines: reply.seconds?.slice(1) ?? [], dump: reply.dumpSeconds ?? 0 });
    return { output: (reply.output ?? '').trim(), stateAfter: options.saveStateAfter ? parseLiveState(reply.state ?? {}) : undefined };
  }
  session.starts += 1;
  const stateFile = `/tmp/ibft-lab-state.${randomBytes(8).toString('hex')}.json`;
  const save = options.saveStateAfter ? [`/ saveconfig ${stateFile}`] : [];
  const script = ['set global auto_save_on_exit=false', ...lines, ...save, 'exit', SCRIPT_END, ''].join('\n');
  const result = await session.transport.run(['sh', '-c', RUN_WHOLE_SCRIPT, 'sh', TARGETCLI_HOME, stateFile], { stdin: script });
  if (result.code === 97) throw new Error(`${session.transport.description}: ${result.stderr.trim()}`);
  const at = result.stdout.lastIndexOf(`\n${STATE_SEPARATOR}\n`);
  const output = at < 0 ? result.stdout : result.stdout.slice(0, at);
  let stateAfter: LiveState | undefined;
  if (options.saveStateAfter && at >= 0) {
    try {
      stateAfter = parseLiveState(result.stdout.slice(at + STATE_SEPARATOR.length + 2));
    } catch {
      // A cut-off or foreign file: the caller reads the state anew.
    }
  }
  return { output: `${output}\n${result.stderr}`.trim(), stateAfter };
}

/** Replaces every secret in `text` by asterisks (targetcli echoes "Parameter password is now '…'"). */
export function maskSecrets(text: string, secrets: string[]): string {
  let masked = text;
  for (const secret of secrets.filter(Boolean).sort((a, b) => b.length - a.length)) masked = masked.split(secret).join('********');
  return masked;
}
