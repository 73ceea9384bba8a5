/**
 * Listeners on an IBApi that can all be removed at once, each guarded: a handler that throws is
 * logged, never propagated into stoqey's event dispatch (it would break the socket's message loop).
 * Used by the execution client's listeners (ib-listeners.ts) and market data (market-data-messages.ts).
 */
import type { EventName, IBApi } from '@stoqey/ib';
import type { Logger } from '../../lib/core/logger.js';

/** stoqey types `on`/`off` per event; the listeners are typed where they are written. */
type Untyped = { on(e: string, l: (...a: never[]) => void): void; off(e: string, l: (...a: never[]) => void): void };

export interface GuardedListeners {
  on<A extends unknown[]>(event: EventName, fn: (...args: A) => void): void;
  /** Removes every listener added through `on` */
  detach(): void;
}

/** `failure`: the log message when a handler throws */
export function guardedListeners(api: IBApi, log: Logger, failure: string): GuardedListeners {
  const raw = api as unknown as Untyped;
  const added: [string, (...a: never[]) => void][] = [];
  return {
    on: <A extends unknown[]>(event: EventName, fn: (...args: A) => void) => {
      const guarded = (...args: A) => {
        try {
          fn(...args);
        } catch (e) {
          log.error(failure, { event, error: e instanceof Error ? e.message : String(e) });
        }
      };
      raw.on(event, guarded as never);
      added.push([event, guarded as never]);
    },
    detach: () => {
      for (const [event, fn] of added.splice(0)) raw.off(event, fn);
    },
  };
}
