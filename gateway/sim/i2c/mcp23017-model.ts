/**
 * Register-level model of a Microchip MCP23017 16-bit I/O expander (DS20001952). In the power-on
 * IOCON.BANK=0 map the A/B register pairs sit at even/odd addresses 0x00..0x15 and the address
 * pointer advances after every byte (rolling over after 0x15), or toggles within the A/B pair when
 * IOCON.SEQOP is set. IOCON.BANK=1 (something else wrote IOCON, or a glitch did) moves port A to
 * 0x00..0x0A and port B to 0x10..0x1A, IOCON to 0x05 and 0x15: a driver that keeps writing the
 * BANK=0 addresses then writes the wrong registers, which the driver's IOCON check repairs.
 */
import type { I2cDeviceModel } from './fake-bus.js';

const IODIRA = 0x00;
const IPOLA = 0x02;
const IOCON = 0x0a;
const IOCON_ALIAS = 0x0b;
const GPPUA = 0x0c;
const INTFA = 0x0e;
const INTCAPB = 0x11;
const GPIOA = 0x12;
const GPIOB = 0x13;
const OLATA = 0x14;
const REGISTER_COUNT = 0x16;
const IOCON_BANK = 0x80;
/** BANK=1 addresses run 0x00..0x1A (port B from 0x10). */
const BANK1_ADDRESS_COUNT = 0x1b;
const IOCON_SEQOP = 0x20;

/** A pin is driven high, driven low, or an input (high impedance). */
export type PinState = 'high' | 'low' | 'hi-z';

export class Mcp23017Model implements I2cDeviceModel {
  /** The registers, indexed by their BANK=0 address whatever the current bank. */
  private regs = new Uint8Array(REGISTER_COUNT);
  /** The address the master last set, in the current bank's map. */
  private pointer = 0;
  /** What is connected to each pin from outside; undefined = nothing (floating). */
  private readonly external: (boolean | undefined)[] = new Array<boolean | undefined>(16).fill(undefined);
  private readonly listeners = new Set<(pins: readonly PinState[]) => void>();

  constructor() {
    this.reset();
  }

  /** Power-on reset (or a brown-out): every pin back to an input, latches cleared. */
  reset(): void {
    const before = this.outputs();
    this.regs.fill(0);
    this.regs[IODIRA] = 0xff;
    this.regs[IODIRA + 1] = 0xff;
    this.pointer = 0;
    this.notifyIfChanged(before);
  }

  /** Drives pin 0..15 (GPA0..7, GPB0..7) from outside, or leaves it floating with `undefined`. */
  setInput(pin: number, level: boolean | undefined): void {
    this.external[pin] = level;
  }

  private word(reg: number): number {
    return (this.regs[reg] ?? 0) | ((this.regs[reg + 1] ?? 0) << 8);
  }

  /** Pin states 0..15: outputs show their latch, inputs are high impedance. */
  outputs(): PinState[] {
    const dir = this.word(IODIRA);
    const olat = this.word(OLATA);
    return Array.from({ length: 16 }, (_, pin) => {
      if (dir & (1 << pin)) return 'hi-z';
      return olat & (1 << pin) ? 'high' : 'low';
    });
  }

  /** Calls `listener` whenever a pin state changes. Returns an unsubscribe. */
  onOutputs(listener: (pins: readonly PinState[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notifyIfChanged(before: PinState[]): void {
    const after = this.outputs();
    if (after.some((p, i) => p !== before[i])) for (const l of this.listeners) l(after);
  }

  private bank1(): boolean {
    return ((this.regs[IOCON] ?? 0) & IOCON_BANK) !== 0;
  }

  /** The BANK=0 index of the register at `address` in the current map; undefined = unimplemented. */
  private index(address: number): number | undefined {
    if (!this.bank1()) return address < REGISTER_COUNT ? address : undefined;
    // BANK=1: port A at 0x00..0x0A, port B at 0x10..0x1A, each in BANK=0's pair order.
    if (address <= 0x0a) return address * 2;
    if (address >= 0x10 && address <= 0x1a) return (address - 0x10) * 2 + 1;
    return undefined;
  }

  private advance(): void {
    const seqop = ((this.regs[IOCON] ?? 0) & IOCON_SEQOP) !== 0;
    if (this.bank1()) {
      // Byte mode with BANK=1 keeps the pointer where it is.
      if (!seqop) this.pointer = (this.pointer + 1) % BANK1_ADDRESS_COUNT;
    } else {
      // Byte mode (SEQOP=1) with BANK=0 toggles within the A/B pair instead of advancing.
      this.pointer = seqop ? this.pointer ^ 1 : (this.pointer + 1) % REGISTER_COUNT;
    }
  }

  /** IOCON as the chip holds it (for tests: which bank and mode the driver left it in). */
  iocon(): number {
    return this.regs[IOCON] ?? 0;
  }

  /** Level seen on each pin: an output reads back its latch, an input what drives it (or its pull-up). */
  private pinLevels(): number {
    const dir = this.word(IODIRA);
    const pullUp = this.word(GPPUA);
    let ext = 0;
    for (let pin = 0; pin < 16; pin++) {
      const level = this.external[pin] ?? (pullUp & (1 << pin)) !== 0;
      if (level) ext |= 1 << pin;
    }
    return (ext & dir) | (this.word(OLATA) & ~dir);
  }

  write(bytes: Buffer): void {
    if (bytes.length === 0) return;
    const before = this.outputs();
    this.pointer = bytes[0] ?? 0;
    for (const b of bytes.subarray(1)) {
      let reg = this.index(this.pointer);
      if (reg === undefined) {
        // Unimplemented address: the byte is acknowledged and dropped.
      } else if (reg === IOCON || reg === IOCON_ALIAS) {
        this.regs[IOCON] = b;
        this.regs[IOCON_ALIAS] = b;
      } else if (reg >= INTFA && reg <= INTCAPB) {
        // INTF and INTCAP are read-only.
      } else {
        // Writing GPIO writes the output latch.
        if (reg === GPIOA || reg === GPIOB) reg += OLATA - GPIOA;
        this.regs[reg] = b;
      }
      this.advance();
    }
    this.notifyIfChanged(before);
  }

  read(length: number): Buffer {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) {
      const reg = this.index(this.pointer);
      let value = reg === undefined ? 0 : (this.regs[reg] ?? 0);
      if (reg === GPIOA || reg === GPIOB) {
        const port = reg - GPIOA;
        const dir = this.regs[IODIRA + port] ?? 0;
        // IPOL inverts what GPIO reports for input pins only.
        value = ((this.pinLevels() >> (8 * port)) ^ ((this.regs[IPOLA + port] ?? 0) & dir)) & 0xff;
      }
      out[i] = value;
      this.advance();
    }
    return out;
  }
}
