/** Subscriptions requested while held work runs: attached as they come (kernel-subscriptions.ts) */
export interface PendingAttachments {
  readonly pending: readonly unknown[];
  flush(): Promise<void>;
}

/**
 * Async work a pull-driven run waits for before its next event (`Kernel.hold`): the run resumes
 * once every held promise settled, and ends with the first failure.
 */
export class HeldWork {
  private readonly holds = new Set<Promise<void>>();
  private wake: (() => void) | undefined;
  private failed: { error: unknown } | undefined;

  /** Held promises not settled yet */
  get size(): number {
    return this.holds.size;
  }

  add(work: Promise<unknown>): void {
    const settled = (error: { error: unknown } | undefined) => {
      this.holds.delete(p);
      if (error !== undefined) this.failed ??= error;
      this.wake?.();
    };
    const p: Promise<void> = work.then(
      () => settled(undefined),
      (error: unknown) => settled({ error }),
    );
    this.holds.add(p);
  }

  /** Something the waiting run must act on happened (a subscription was requested) */
  notify(): void {
    this.wake?.();
  }

  /** Waits for held work, attaching the subscriptions it requests meanwhile; a failure ends the run */
  async wait(subscriptions: PendingAttachments): Promise<void> {
    while (this.holds.size > 0 || subscriptions.pending.length > 0) {
      if (subscriptions.pending.length > 0) {
        await subscriptions.flush();
        continue;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
    this.throwError();
  }

  /** Ends the run with the first held work's failure, once */
  throwError(): void {
    const failed = this.failed;
    if (failed === undefined) return;
    this.failed = undefined;
    throw failed.error;
  }
}
