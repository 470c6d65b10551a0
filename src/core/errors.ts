/**
 * An error caused by the user's input (data files, flags): the CLI prints its message as one line and
 * exits non-zero, with no stack trace. Anything else is a bug and keeps its stack.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
}
