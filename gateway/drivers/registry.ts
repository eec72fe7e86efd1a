/**
 * The driver types a board profile can name. Adding a chip = one file exporting a
 * DriverDefinition, plus one line here.
 */
import type { DriverDefinition } from './io.js';
import { abp } from './abp.js';
import { ads1115 } from './ads1115.js';
import { gpio } from './gpio.js';
import { mcp23017 } from './mcp23017.js';
import { modbusRtu, modbusTcp } from './modbus.js';
import { mprls } from './mprls.js';
import { pca9685 } from './pca9685.js';
import { simPanel } from './sim-panel.js';
import { simStation } from './sim-station.js';

/**
 * Erases the config type: the loader hands each definition back only the config its own
 * parseConfig() returned, so the pairing stays sound.
 */
function erase<C>(d: DriverDefinition<C>): DriverDefinition {
  return d as unknown as DriverDefinition;
}

export const DRIVERS: ReadonlyMap<string, DriverDefinition> = new Map(
  [
    erase(ads1115),
    erase(mcp23017),
    erase(pca9685),
    erase(mprls),
    erase(abp),
    erase(gpio),
    erase(modbusTcp),
    erase(modbusRtu),
    erase(simStation),
    erase(simPanel),
  ].map((d) => [d.type, d]),
);
