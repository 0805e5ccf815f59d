/**
 * How services tell the user what they are doing, without knowing whether a TTY, a log file
 * or a JSON consumer is on the other end. The CLI supplies the implementation.
 */
export interface Progress {
  update(done: number): void;
  finish(): void;
}

export interface Reporter {
  info(message: string): void;
  warn(message: string): void;
  /** A byte-counting progress display for one transfer; `total` may be unknown. */
  progress(label: string, total: number | undefined): Progress;
}

/** For library use and tests: says nothing. */
export const silentReporter: Reporter = {
  info() {},
  warn() {},
  progress: () => ({ update() {}, finish() {} }),
};
