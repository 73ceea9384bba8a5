import type { Order } from '../model/orders.js';
import type { InstrumentRegistry } from './instrument-registry.js';
import type { AdoptedOrder, OrderManager } from './order-manager.js';
import type { DataClient } from './ports.js';
import type { Portfolio } from './portfolio.js';

/** What a resumed live run starts from (`Kernel.restore`) */
export interface KernelRestore {
  /** Position per instrument key: set as given (instruments are resolved through the data client) */
  positions?: Readonly<Record<string, { quantity: number; avgPrice: number }>>;
  cash?: number;
  /** Orders of earlier processes the broker may still work: adopted, never sent again */
  orders?: readonly AdoptedOrder[];
}

/** The parts of a kernel a restore writes to */
export interface RestoreTarget {
  instruments: InstrumentRegistry;
  portfolio: Portfolio;
  orders: OrderManager;
  data: DataClient;
}

/**
 * `Kernel.restore`: registers the instruments named, sets positions and cash, adopts orders (see
 * OrderManager.adopt). Instruments the data client cannot resolve are skipped and listed in `unresolved`.
 */
export async function restoreKernelState(k: RestoreTarget, state: KernelRestore): Promise<{ orders: Order[]; unresolved: string[] }> {
  const unresolved: string[] = [];
  const indexOf = async (key: string): Promise<number | undefined> => {
    const known = k.instruments.indexOf(key);
    if (known !== undefined) return known;
    try {
      const index = k.instruments.add(await k.data.resolve(key));
      k.portfolio.sync();
      return index;
    } catch (e) {
      unresolved.push(`${key}: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
  };
  for (const [key, p] of Object.entries(state.positions ?? {})) {
    const index = await indexOf(key);
    if (index !== undefined) k.portfolio.restorePosition(index, p.quantity, p.avgPrice);
  }
  if (state.cash !== undefined) k.portfolio.restoreCash(state.cash);
  const orders: Order[] = [];
  for (const a of state.orders ?? []) {
    const index = await indexOf(a.request.instrument);
    if (index !== undefined) orders.push(k.orders.adopt(a, index));
  }
  return { orders, unresolved };
}
