// Options shared by every formatter. Secrets are masked unless a caller opts in.
export interface FormatOptions {
  /** Print CHAP and reverse-CHAP secrets as they are. Default false: they print as MASKED_SECRET. */
  revealSecrets?: boolean;
}

export const MASKED_SECRET = '********';

/** The value to print for a secret: masked unless revealed. */
export function secretText(value: string, options: FormatOptions | undefined): string {
  return options?.revealSecrets ? value : MASKED_SECRET;
}
