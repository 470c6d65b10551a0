/**
 * An error caused by the user's input (data files, flags): the CLI prints its message as one line and
 * exits non-zero, with no stack trace. Anything else is a bug and keeps its stack.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
}

/** A trainer whose loss became NaN or ±Infinity. */
export class DivergenceError extends Error {
  override readonly name = 'DivergenceError';
  constructor(
    readonly trainer: string,
    readonly step: number,
    readonly lr: number,
    readonly loss: number,
  ) {
    super(`${trainer} diverged at step ${step} (loss ${loss}, learning rate ${lr})`);
  }
}
