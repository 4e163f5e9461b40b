// Asking the machine's LIO agent (appliance/lio-agent.ts) over the transport:
// one JSON line out, one back, on a connection of its own.
import { LIO_AGENT_PROTOCOL } from './appliance/lio-agent';
import type { Transport } from './transport';

export type LioAgentRequest = { op: 'ping' } | { op: 'dump' } | { op: 'run'; lines: string[] };

export interface LioAgentReply {
  ok?: boolean;
  error?: string;
  /** What targetcli printed for the lines (op run). */
  output?: string;
  /** rtslib's dump of the live configuration after the request (ops dump and run). */
  state?: unknown;
  /** Seconds the agent spent (op run): refreshing targetcli's tree, then each line. */
  seconds?: number[];
  /** Seconds the dump took. */
  dumpSeconds?: number;
}

/** The agent could not be reached at all: nothing was sent, so another way may be taken. */
export class LioAgentUnreachable extends Error {}

/** A run may hold LIO while it creates a large backstore; no request takes this long. */
const REPLY_DEADLINE_MS = 300_000;

export async function askLioAgent(transport: Transport, request: LioAgentRequest, deadlineMs = REPLY_DEADLINE_MS): Promise<LioAgentReply> {
  const port = transport.lioAgentPort;
  if (port === undefined || !transport.connectLoopback) throw new LioAgentUnreachable(`${transport.description}: no LIO agent is known there`);
  let channel;
  try {
    channel = await transport.connectLoopback(port);
  } catch (error) {
    throw new LioAgentUnreachable((error as Error).message);
  }
  const reply = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      channel.destroy();
      outcome();
    };
    const timer = setTimeout(
      () => settle(() => reject(new Error(`${transport.description}: the LIO agent did not answer within ${Math.round(deadlineMs / 1000)} s`))),
      deadlineMs,
    );
    // The reply is one line: taken as soon as it is whole (dropbear closes the channel only once we do).
    channel.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.includes('\n')) settle(() => resolve(text));
    });
    channel.on('error', () => undefined); // the close below says what happened
    const cutOff = () =>
      settle(() =>
        reject(
          new Error(
            `${transport.description}: the connection to the LIO agent closed before it answered (a request runs whole once it arrived, or not at all); run again: it re-reads the machine and plans from there`,
          ),
        ),
      );
    channel.on('end', cutOff);
    channel.on('close', cutOff);
    // No end(): dropbear may close the whole socket on the channel's EOF, before the reply. The agent closes it.
    channel.write(`${JSON.stringify({ protocol: LIO_AGENT_PROTOCOL, ...request })}\n`);
  });
  const parsed = JSON.parse(reply) as LioAgentReply;
  if (parsed.error) throw new Error(`${transport.description}: the LIO agent refused the request: ${parsed.error}`);
  return parsed;
}
