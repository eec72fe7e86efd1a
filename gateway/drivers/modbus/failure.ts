/**
 * What went wrong with one Modbus transaction, in the terms the drivers act on (an exception, a
 * silent unit, a dead link), and the classification of whatever jsmodbus rejected with.
 */

/** What went wrong with one transaction, in the terms the drivers act on. */
export type ModbusFailure =
  /** The unit answered with an exception: it is alive, the request was wrong (e.g. code 2, illegal address). */
  | { kind: 'exception'; code: number; text: string }
  /** Nothing (or nothing usable) came back in time: the unit may be gone. */
  | { kind: 'silent'; text: string }
  /** The link is down; the transaction was not sent or was cut off. */
  | { kind: 'link-down'; text: string };

export class ModbusError extends Error {
  constructor(readonly failure: ModbusFailure) {
    super(failure.text);
    this.name = 'ModbusError';
  }
}

/** Standard exception codes (spec section 7), worded for support staff. */
const EXCEPTION_TEXT: Readonly<Record<number, string>> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'slave device failure',
  5: 'acknowledge (busy with a long operation)',
  6: 'slave device busy',
  8: 'memory parity error',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond',
};

function field(x: unknown, key: string): unknown {
  return typeof x === 'object' && x !== null ? (x as Record<string, unknown>)[key] : undefined;
}

/** Turns whatever jsmodbus rejected with (a UserRequestError, or an Error) into a ModbusFailure. */
export function classifyFailure(err: unknown): ModbusFailure {
  if (err instanceof ModbusError) return err.failure;
  const code = field(err, 'err');
  if (code === 'ModbusException') {
    const exc = field(field(field(err, 'response'), 'body'), 'code');
    const n = typeof exc === 'number' ? exc : -1;
    return {
      kind: 'exception',
      code: n,
      text: `${EXCEPTION_TEXT[n] ?? 'unknown exception'} (exception ${n})`,
    };
  }
  if (code === 'Timeout') return { kind: 'silent', text: 'timeout' };
  if (code === 'Offline' || code === 'ManuallyCleared') return { kind: 'link-down', text: 'link closed' };
  if (code === 'crcMismatch') return { kind: 'silent', text: 'answer failed its CRC check' };
  if (code === 'OutOfSync' || code === 'Protocol')
    return { kind: 'silent', text: 'answer did not match the request' };
  const message = err instanceof Error ? err.message : String(err);
  return { kind: 'silent', text: message };
}
