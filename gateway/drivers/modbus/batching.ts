/**
 * How a Modbus device groups its channels into requests (see ../modbus.ts, "Batching"), within the
 * protocol's size limits, and what each request costs on an RTU line.
 */

/** Protocol limits (Modbus application protocol spec v1.1b3, section 6). */
export const MAX_READ_BITS = 2000;
export const MAX_READ_REGISTERS = 125;
export const MAX_WRITE_COILS = 1968;
export const MAX_WRITE_REGISTERS = 123;

/** Groups sorted addresses into spans of at most `max` (start..end inclusive) covering gaps. */
export function spans(addresses: readonly number[], max: number): { start: number; count: number }[] {
  const sorted = [...new Set(addresses)].sort((a, b) => a - b);
  const out: { start: number; count: number }[] = [];
  for (const a of sorted) {
    const last = out[out.length - 1];
    if (last && a - last.start < max) last.count = a - last.start + 1;
    else out.push({ start: a, count: 1 });
  }
  return out;
}

/** Groups sorted addresses into runs of consecutive addresses, each at most `max` long. */
export function runs(addresses: readonly number[], max: number): { start: number; count: number }[] {
  const sorted = [...new Set(addresses)].sort((a, b) => a - b);
  const out: { start: number; count: number }[] = [];
  for (const a of sorted) {
    const last = out[out.length - 1];
    if (last && a === last.start + last.count && last.count < max) last.count++;
    else out.push({ start: a, count: 1 });
  }
  return out;
}

/*
 * Bytes of request plus answer on an RTU line (address + PDU + CRC each), for the wire-time part
 * of the timeout. Spec PDUs: reads 5 bytes out; answers 2 + data; FC15/FC16 6 + data out, 5 back.
 */
export function readBitsBytes(count: number): number {
  return 8 + 5 + Math.ceil(count / 8);
}
export function readRegistersBytes(count: number): number {
  return 8 + 5 + 2 * count;
}
export function writeCoilsBytes(count: number): number {
  return 9 + Math.ceil(count / 8) + 8;
}
export function writeRegistersBytes(count: number): number {
  return 9 + 2 * count + 8;
}
