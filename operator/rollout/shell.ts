// Commands sent over SSH are strings that the remote shell parses, so every value that is not
// written here literally goes through shellQuote: POSIX single quotes take everything literally
// except the single quote itself, which is closed, escaped and reopened.

export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_./:=@%+-]+$/.test(value)) return value;
  return `'${value.replaceAll("'", "'\\''")}'`;
}

/** A command line from its words, each quoted. */
export function shellCommand(...words: string[]): string {
  return words.map(shellQuote).join(' ');
}
