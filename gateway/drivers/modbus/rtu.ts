/**
 * The Modbus RTU transport: a serial port carrying an RS-485 bus, through the optional
 * `serialport` package, with the bus timing (character time, inter-frame gap) its settings give.
 */
import type * as serialport from 'serialport';
import type { Connection, ConnectionHandlers, LinkSpec } from './link.js';

export interface SerialSettings {
  path: string;
  baudRate: number;
  parity: 'none' | 'even' | 'odd';
  dataBits: 7 | 8;
  stopBits: 1 | 2;
}

/** Bits on the wire per character: start + data + parity + stop. */
function bitsPerChar(s: SerialSettings): number {
  return 1 + s.dataBits + (s.parity === 'none' ? 0 : 1) + s.stopBits;
}

export function rtuLinkSpec(s: SerialSettings): LinkSpec {
  const charMs = (bitsPerChar(s) * 1000) / s.baudRate;
  return {
    key: `rtu:${s.path}`,
    where: s.path,
    settings: `${s.baudRate} ${s.dataBits}${s.parity[0]?.toUpperCase() ?? 'N'}${s.stopBits}`,
    kind: 'rtu',
    // Spec (Modbus over serial line v1.02, 2.5.1.1): 3.5 characters, fixed at 1.75 ms above 19200 baud.
    frameGapMs: s.baudRate > 19200 ? 1.75 : 3.5 * charMs,
    byteMs: charMs,
    connect: (handlers) => openSerial(s, handlers),
  };
}

type SerialPortModule = typeof serialport;
let serialPortModule: Promise<SerialPortModule> | undefined;

/** Loads the optional `serialport` package on first use, so TCP-only boards never need it. */
export function loadSerialPort(): Promise<SerialPortModule> {
  serialPortModule ??= import('serialport').catch((err: unknown) => {
    serialPortModule = undefined;
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(
      `modbus-rtu needs the optional package "serialport" (npm install serialport@13.0.0), which did not load: ${why}`,
    );
  });
  return serialPortModule;
}

async function openSerial(s: SerialSettings, handlers: ConnectionHandlers): Promise<Connection> {
  const { SerialPort } = await loadSerialPort();
  const port = new SerialPort({
    path: s.path,
    baudRate: s.baudRate,
    parity: s.parity,
    dataBits: s.dataBits,
    stopBits: s.stopBits,
    autoOpen: false,
  });
  let open = false;
  let lastError = '';
  port.on('error', (err: Error) => {
    lastError = err.message;
  });
  await new Promise<void>((resolve, reject) => {
    port.open((err) => {
      if (err) reject(new Error(err.message.replace(/^Error: /, '')));
      else resolve();
    });
  });
  open = true;
  port.on('data', (chunk: Buffer) => handlers.data(chunk));
  port.on('close', (err: Error | null) => {
    if (open) handlers.lost(err?.message ?? (lastError || 'port closed'));
    open = false;
  });
  return {
    write: (frame) => {
      port.write(frame);
    },
    close: () =>
      new Promise<void>((done) => {
        if (!open) return done();
        open = false;
        port.close(() => done());
      }),
  };
}
