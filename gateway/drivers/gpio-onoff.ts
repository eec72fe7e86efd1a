/**
 * The `onoff` package behind the gpio driver (gpio.ts): the part of its line the driver uses, and
 * loading it, which can fail on a Pi without a compiler for its native addon.
 */
import type { Direction, Edge, Gpio as OnoffGpio, Options as OnoffOptions } from 'onoff';

/** The part of onoff's `Gpio` this driver uses, so tests can substitute a line that fails. */
export type GpioLine = Pick<OnoffGpio, 'readSync' | 'writeSync' | 'unexport'>;

/** onoff's `Gpio` constructor, as this driver calls it. */
export type GpioLineConstructor = new (
  gpio: number,
  direction: Direction,
  edge?: Edge,
  options?: OnoffOptions,
) => GpioLine;

export type OnoffImporter = () => Promise<{ Gpio: GpioLineConstructor }>;

export function errorText(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    return code && !e.message.startsWith(code) ? `${code}: ${e.message}` : e.message;
  }
  return String(e);
}

/**
 * Loads onoff. It is an optional dependency with a native addon (epoll) that is compiled on
 * install, so a missing compiler on the Pi shows up here, not at startup of profiles without GPIO.
 */
export async function loadOnoff(
  deviceId: string,
  importer: OnoffImporter = () => import('onoff'),
): Promise<GpioLineConstructor> {
  try {
    return (await importer()).Gpio;
  } catch (e) {
    throw new Error(
      `gpio device "${deviceId}": this profile needs the optional onoff package and its native epoll addon, ` +
        `which failed to load (${errorText(e)}). On the Pi: sudo apt install build-essential python3, ` +
        `then npm rebuild epoll (or npm install onoff if it is missing)`,
      { cause: e },
    );
  }
}
