import { calendarForInstrument, type ExchangeCalendar } from '../calendar/index.js';
import { InvariantError } from '../core/errors.js';
import type { InstrumentSpec } from '../data/instrument.js';

/**
 * Dense indices for the instruments a running engine knows, so hot paths use typed arrays indexed
 * by instrument instead of maps. Indices are never reused within a run.
 */
export class InstrumentRegistry {
  private readonly byKey = new Map<string, number>();
  private readonly specs: InstrumentSpec[] = [];
  private readonly calendars: (ExchangeCalendar | undefined)[] = [];

  get size(): number {
    return this.specs.length;
  }

  /** Index of the instrument, registering it on first sight */
  add(spec: InstrumentSpec): number {
    const known = this.byKey.get(spec.key);
    if (known !== undefined) return known;
    const index = this.specs.length;
    this.specs.push(spec);
    this.byKey.set(spec.key, index);
    this.calendars.push(undefined);
    return index;
  }

  indexOf(key: string): number | undefined {
    return this.byKey.get(key);
  }

  require(key: string): number {
    const i = this.byKey.get(key);
    if (i === undefined) throw new InvariantError(`unknown instrument '${key}': subscribe to it first`);
    return i;
  }

  spec(index: number): InstrumentSpec {
    const s = this.specs[index];
    if (s === undefined) throw new InvariantError(`no instrument at index ${index}`);
    return s;
  }

  /** The instrument's exchange calendar (looked up once) */
  calendar(index: number): ExchangeCalendar {
    let c = this.calendars[index];
    if (c === undefined) {
      const s = this.spec(index);
      c = calendarForInstrument(s.secType, s.symbol);
      this.calendars[index] = c;
    }
    return c;
  }

  keys(): string[] {
    return this.specs.map((s) => s.key);
  }
}
