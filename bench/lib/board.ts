/**
 * The bench board: 8 simulated stations of 8 leg zones each at 100 Hz, written from a template
 * into a directory of the caller's (a temp dir), so no profile in config/ has to be kept in step
 * with the board schema by hand. Same shape as config/simulator.json: one sim-station I/O module
 * per station, the panel carrying the emergency stop and the watchdog heartbeat.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const BENCH_STATIONS = 8;
export const BENCH_ZONES = 8;

export function benchStationIds(stations = BENCH_STATIONS): string[] {
  return Array.from({ length: stations }, (_, i) => `bench-${i + 1}`);
}

export function benchBoard(stations = BENCH_STATIONS, zones = BENCH_ZONES): object {
  const ids = benchStationIds(stations);
  const devices: Record<string, object> = { panel: { type: 'sim-panel' } };
  for (const id of ids) devices[`io-${id}`] = { type: 'sim-station', station: id };
  return {
    name: 'bench',
    description: `Benchmark board: ${stations} simulated stations of ${zones} leg zones at 100 Hz.`,
    loopRateHz: 100,
    devices,
    heartbeat: 'panel:heartbeat',
    estop: 'panel:estop',
    simulator: { seed: 20261127, stations: {} },
    stations: ids.map((id, i) => ({
      id,
      name: `Bench ${i + 1}`,
      garment: 'leg',
      garmentName: `leg boots, ${zones} chambers`,
      pump: { enable: `io-${id}:pump`, pwm: `io-${id}:pump-speed` },
      zones: Array.from({ length: zones }, (_, z) => ({
        inlet: `io-${id}:z${z + 1}.inlet`,
        exhaust: `io-${id}:z${z + 1}.exhaust`,
        sensor: `io-${id}:z${z + 1}.pressure`,
      })),
    })),
  };
}

/** Writes the board to `<dir>/bench.json` and returns its path (PRESSO_BOARD takes a path). */
export function writeBenchBoard(dir: string, stations = BENCH_STATIONS, zones = BENCH_ZONES): string {
  const file = join(dir, 'bench.json');
  writeFileSync(file, `${JSON.stringify(benchBoard(stations, zones), null, 2)}\n`);
  return file;
}
