/** Progress of long work (ingest, sweeps, training); the CLI draws a bar, notebooks a display. */
export interface ProgressReporter {
  start(total: number, label: string): void;
  update(done: number, info?: Record<string, string | number>): void;
  stop(): void;
}

export const silentProgress: ProgressReporter = {
  start() {},
  update() {},
  stop() {},
};
