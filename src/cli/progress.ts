import cliProgress from 'cli-progress';
import type { Progress, Reporter } from '../core/report.js';
import { formatBytes } from './format.js';

/** Bars being drawn now, so an interrupted run can give the terminal back (see stopProgressBars). */
const drawing = new Set<cliProgress.MultiBar>();

/**
 * Stops every bar, which shows the cursor again and turns line wrap back on: cli-progress
 * hides the one and turns off the other while it draws, and a process that exits on Ctrl-C
 * without this leaves the user's terminal that way.
 */
export function stopProgressBars(): void {
  for (const b of drawing) b.stop();
  drawing.clear();
}

/**
 * Progress bars (bytes, rate, ETA) when stderr is a terminal — one bar per concurrent
 * transfer, stacked — and otherwise one plain line per finished transfer, so logs and CI
 * output stay readable.
 */
export function createReporter(opts: { json: boolean }): Reporter {
  const tty = Boolean(process.stderr.isTTY) && !process.env.CI && !opts.json;
  let bars: cliProgress.MultiBar | undefined;
  let active = 0;
  const say = (s: string): void => {
    if (bars) bars.log(`${s}\n`);
    else process.stderr.write(`${s}\n`);
  };
  return {
    info: say,
    warn: (s) => say(`warning: ${s}`),
    progress(label: string, total: number | undefined): Progress {
      const started = Date.now();
      const rate = (done: number): string => formatBytes(done / Math.max((Date.now() - started) / 1000, 0.001));
      if (!tty) {
        let last = 0;
        return {
          update: (done) => {
            last = done;
          },
          finish: () => say(`${label}: ${formatBytes(last)} (${rate(last)}/s)`),
        };
      }
      bars ??= new cliProgress.MultiBar(
        {
          format: '{label} [{bar}] {percentage}% {done}/{all} {rate}/s ETA {eta_formatted}',
          stream: process.stderr,
          hideCursor: true,
          clearOnComplete: false,
        },
        cliProgress.Presets.shades_classic,
      );
      drawing.add(bars);
      active++;
      const all = total ?? 0;
      const bar = bars.create(all, 0, { label, done: '0 B', all: total === undefined ? '?' : formatBytes(all), rate: '0 B' });
      return {
        update(done) {
          bar.update(total === undefined ? 0 : Math.min(done, all), { done: formatBytes(done), rate: rate(done) });
        },
        finish() {
          bar.stop();
          if (--active === 0 && bars) {
            bars.stop();
            drawing.delete(bars);
            bars = undefined;
          }
        },
      };
    },
  };
}
