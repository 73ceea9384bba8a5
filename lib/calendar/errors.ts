import { WorkbenchError } from '../core/errors.js';

/** Stable codes for calendar failures. */
export type CalendarErrorCode = 'UNKNOWN_CALENDAR' | 'OUT_OF_RANGE' | 'BAD_ARGUMENT';

/**
 * A calendar question that cannot be answered: an unknown calendar name, a date outside the
 * years the rules cover, or a malformed argument. Not-a-trading-day is never an error.
 */
export class CalendarError extends WorkbenchError {
  readonly code: CalendarErrorCode;
  constructor(code: CalendarErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
