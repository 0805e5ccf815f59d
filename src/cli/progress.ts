import cliProgress from 'cli-progress';
import type { Progress, Reporter } from '../core/report.js';
import { formatBytes } from './format.js';

/**
 * Progress bars (bytes, rate, ETA) when stderr is a terminal; otherwise one plain line when a
 * transfer starts and one when it ends, so logs and CI output stay readable.
 */
export function createReporter(opts: { json: boolean }): Reporter {
  const tty = Boolean(process.stderr.isTTY) && !process.env.CI;
  const say = (s: string): void => {
    process.stderr.write(`${s}\n`);
  };
  return {
    info: say,
    warn: (s) => say(`warning: ${s}`),
    progress(label: string, total: number | undefined): Progress {
      if (tty && !opts.json) return barProgress(label, total);
      const started = Date.now();
      let last = 0;
      return {
        update(done) {
          last = done;
        },
        finish() {
          const secs = Math.max((Date.now() - started) / 1000, 0.001);
          say(`${label}: ${formatBytes(last)} in ${secs.toFixed(1)} s (${formatBytes(last / secs)}/s)`);
        },
      };
    },
  };
}

function barProgress(label: string, total: number | undefined): Progress {
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% {done}/{all} {rate}/s ETA {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  const all = total ?? 0;
  bar.start(all, 0, { done: '0 B', all: total === undefined ? '?' : formatBytes(all), rate: '0 B' });
  return {
    update(done) {
      const secs = Math.max((Date.now() - started) / 1000, 0.001);
      bar.update(Math.min(done, all || done), { done: formatBytes(done), rate: formatBytes(done / secs) });
    },
    finish() {
      bar.stop();
    },
  };
}
