import cliProgress from 'cli-progress';

export interface ProgressOptions {
  /** false: report progress as occasional `log` lines even on a terminal. Bars are only ever drawn when stderr is a terminal. */
  progress?: boolean;
  log: (line: string) => void;
}

export interface ProgressReporter {
  increment(amount?: number): void;
  stop(): void;
}

/** Plain-line mode reports each time this many more percent are done, so logs stay short. */
const PLAIN_LINE_PERCENT_STEP = 20;

export function formatBytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** Starts reporting one phase of work of `total` units (items, or bytes when `formatValue` is formatBytes). */
export function startProgress(
  label: string,
  total: number,
  options: ProgressOptions,
  formatValue: (value: number) => string = String,
): ProgressReporter {
  const drawBar = options.progress !== false && process.stderr.isTTY === true;
  let done = 0;
  if (drawBar) {
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: `${label.padEnd(12)} [{bar}] {percentage}% | {doneText}/{totalText} | ETA {eta_formatted}`,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { doneText: formatValue(0), totalText: formatValue(total) });
    return {
      increment(amount = 1) {
        done += amount;
        bar.update(done, { doneText: formatValue(done) });
      },
      stop() {
        bar.stop();
      },
    };
  }
  let nextReportPercent = PLAIN_LINE_PERCENT_STEP;
  return {
    increment(amount = 1) {
      done += amount;
      const percent = total > 0 ? (100 * done) / total : 100;
      if (percent < nextReportPercent) return;
      const shown = Math.min(100, Math.floor(percent / PLAIN_LINE_PERCENT_STEP) * PLAIN_LINE_PERCENT_STEP);
      options.log(`${label}: ${shown}% (${formatValue(done)}/${formatValue(total)})`);
      nextReportPercent = shown + PLAIN_LINE_PERCENT_STEP;
    },
    stop() {},
  };
}
