/**
 * An error caused by the user's input (data files, flags): the CLI prints its message as one line and
 * exits non-zero, with no stack trace. Anything else is a bug and keeps its stack.
 *
 * The message is made one line here, whatever it echoes: control characters (a newline in a path, a
 * terminal escape in a name) are written as escapes, \n, \r, \t or \xNN (\u{...} above 0xff), so the
 * line cannot be split or recolour the terminal.
 */
export class UserError extends Error {
  override readonly name = 'UserError';

  constructor(message: string) {
    super(escapeControl(message));
  }
}

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `s` with every C0 and C1 control character, DEL, and the line and paragraph separators written as escapes. */
export function escapeControl(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    const code = c.charCodeAt(0);
    return NAMED[c] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`);
  });
}
