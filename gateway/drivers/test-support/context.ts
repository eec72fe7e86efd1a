/**
 * The DriverContext a driver test opens its device with: the given clock, the chips on one
 * simulated I2C bus named "sim", no simulator services, and a link table of its own (one board).
 */
import type { Clock } from '../../clock.js';
import { fakeI2cOpener, type FakeI2cBus } from '../../sim/i2c/fake-bus.js';
import type { DriverContext, Logger } from '../io.js';
import { SharedLinks } from '../shared-links.js';

export function simBusContext(clock: Clock, wire: FakeI2cBus, log: Partial<Logger> = {}): DriverContext {
  return {
    clock,
    log: { info: () => {}, warn: () => {}, error: () => {}, ...log },
    openI2c: fakeI2cOpener({ sim: wire }),
    services: new Map(),
    links: new SharedLinks(),
  };
}
