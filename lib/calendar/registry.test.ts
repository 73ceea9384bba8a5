import { describe, expect, it } from 'vitest';
import { CalendarError, calendarForInstrument, getCalendar } from './index.js';

describe('getCalendar', () => {
  it('resolves names case-insensitively and the CME alias', () => {
    expect(getCalendar('xnys').name).toBe('XNYS');
    expect(getCalendar('CME').name).toBe('CME_EQUITY');
    expect(getCalendar('cme_fx').timeZone).toBe('America/Chicago');
    expect(getCalendar('CME_ENERGY_METALS')).toBe(getCalendar('cme_energy_metals'));
  });

  it('throws a CalendarError listing the valid names', () => {
    expect(() => getCalendar('NASDAQ')).toThrow(CalendarError);
    expect(() => getCalendar('NASDAQ')).toThrow(/XNYS, CME_EQUITY, CME_FX, CME_ENERGY_METALS, CME/);
  });
});

describe('calendarForInstrument', () => {
  it.each([
    ['STK', 'AAPL', 'XNYS'],
    ['CASH', 'EUR', 'CME_FX'],
    ['FUT', 'ES', 'CME_EQUITY'],
    ['FUT', 'mes', 'CME_EQUITY'],
    ['FUT', 'RTY', 'CME_EQUITY'],
    ['FUT', '6E', 'CME_FX'],
    ['FUT', '6J', 'CME_FX'],
    ['FUT', 'GC', 'CME_ENERGY_METALS'],
    ['FUT', 'CL', 'CME_ENERGY_METALS'],
    ['FUT', 'NG', 'CME_ENERGY_METALS'],
  ] as const)('%s %s -> %s', (secType, symbol, name) => {
    expect(calendarForInstrument(secType, symbol).name).toBe(name);
  });

  it('throws for an unknown future root', () => {
    expect(() => calendarForInstrument('FUT', 'ZZ')).toThrow(CalendarError);
  });
});
