/**
 * Brings a validated board to life: builds its simulation when it has one, gives the drivers
 * the right I2C opener (simulated buses by name, /dev/i2c-N otherwise), opens every device and
 * writes the safe state.
 */
import type { Clock } from '../clock.js';
import { openRealI2c } from '../drivers/i2c-bus.js';
import type { DriverContext, I2cOpener, Logger } from '../drivers/io.js';
import { createSimulation, type Simulation } from '../sim/from-board.js';
import type { Board } from './load.js';
import { openBoard, type BoardIo } from './open.js';
import { SharedLinks } from '../drivers/shared-links.js';

export interface RunningBoard {
  io: BoardIo;
  /** Present when the board has simulated parts. */
  sim?: Simulation;
}

export async function startBoard(board: Board, clock: Clock, log: Logger): Promise<RunningBoard> {
  const sim = createSimulation(board, clock);
  const openI2c: I2cOpener = async (bus) =>
    sim && typeof bus === 'string' && bus in sim.buses ? sim.openI2c(bus) : openRealI2c(bus);
  const ctx: DriverContext = {
    clock,
    log,
    openI2c,
    services: sim?.services ?? new Map(),
    links: new SharedLinks(),
  };
  const io = await openBoard(board, ctx);
  return { io, ...(sim ? { sim } : {}) };
}
