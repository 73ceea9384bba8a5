import cliProgress from 'cli-progress';
import { silentProgress, type ProgressReporter } from '../../lib/ingest/progress.js';

/** A progress bar on stderr when it is a terminal; silent otherwise (CI logs, pipes). */
export function terminalProgress(enabled = true): ProgressReporter {
  if (!enabled || !process.stderr.isTTY) return silentProgress;
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: '{label} [{bar}] {percentage}% | {rows} rows | {file}', hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  return {
    start: (total, label) => bar.start(total, 0, { label, rows: 0, file: '' }),
    update: (done, payload) => bar.update(done, payload ?? {}),
    stop: () => bar.stop(),
  };
}
