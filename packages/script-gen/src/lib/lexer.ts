// Splits iPXE script text the way iPXE's script runner does: a line ending
// in "\" continues on the next; a word starting with "#" starts a comment;
// ":name" lines are labels; "||" and "&&" words chain commands. iPXE has no
// quoting, so words are just runs of non-blank characters.

export interface Token {
  text: string;
  /** 1-based physical line and column of the token's first character. */
  line: number;
  column: number;
}

export interface Segment {
  /** Command words; empty for the empty command after a trailing "||". */
  words: Token[];
  /** Operator that follows this command, if any. */
  operator?: { kind: '||' | '&&'; token: Token };
}

export interface ScriptLine {
  /** 1-based line where the logical line starts. */
  line: number;
  /** `:label` lines. */
  label?: Token;
  segments: Segment[];
}

export function lexScript(text: string): ScriptLine[] {
  const physical = text.replace(/\r\n?/g, '\n').split('\n');
  const result: ScriptLine[] = [];
  let i = 0;
  while (i < physical.length) {
    const start = i;
    const tokens: Token[] = [];
    let comment = false;
    for (;;) {
      let raw = physical[i];
      const continued = raw.endsWith('\\') && !comment;
      if (continued) raw = raw.slice(0, -1);
      if (!comment) {
        for (const m of raw.matchAll(/\S+/g)) {
          if (m[0].startsWith('#')) {
            comment = true;
            break;
          }
          tokens.push({ text: m[0], line: i + 1, column: (m.index ?? 0) + 1 });
        }
      }
      i++;
      if (!continued || i >= physical.length) break;
    }
    if (tokens.length === 0) continue;
    if (tokens[0].text.startsWith(':')) {
      result.push({ line: start + 1, label: tokens[0], segments: [] });
      continue;
    }
    const segments: Segment[] = [{ words: [] }];
    for (const token of tokens) {
      if (token.text === '||' || token.text === '&&') {
        segments[segments.length - 1].operator = { kind: token.text, token };
        segments.push({ words: [] });
      } else {
        segments[segments.length - 1].words.push(token);
      }
    }
    result.push({ line: start + 1, segments });
  }
  return result;
}

/** True when the first physical line is iPXE's script signature. */
export function hasIpxeSignature(text: string): boolean {
  return /^#!ipxe(?:\s|$)/.test(text);
}
