/**
 * BCM pin number -> Linux sysfs GPIO number.
 *
 * The sysfs interface numbers GPIOs globally: `base` of the owning gpiochip plus the line offset.
 * The base is chosen by the kernel and has moved: 0 on Pi 0–4 kernels before 6.6, 512 on 6.6+
 * (Pi 0–4), 399 on a Pi 5 with 6.1 and 571 on a Pi 5 with 6.6+ (the SoC's own brcmstb chips take
 * 512–570 first). One report even gives 522 on a Pi 4. So nothing here hard-codes an offset: the
 * header chip is found by its `label` (stable across kernels) and its `base` is read at run time.
 *
 * Reading a few small sysfs files synchronously is fine: this runs once, in `open()`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the kernel puts the sysfs GPIO interface. onoff hard-codes the same path. */
export const DEFAULT_SYSFS_GPIO_ROOT = '/sys/class/gpio';

/**
 * Labels of the gpiochip that owns the 40-pin header's BCM GPIOs, in order of preference:
 * Pi 5 (RP1 south bridge), Pi 4 / 400 / CM4 (BCM2711), Pi 0–3 (BCM2835/6/7 share this driver).
 */
export const HEADER_CHIP_LABELS = ['pinctrl-rp1', 'pinctrl-bcm2711', 'pinctrl-bcm2835'] as const;

export type HeaderChipLabel = (typeof HEADER_CHIP_LABELS)[number];

export interface GpioChipInfo {
  /** Directory name under the sysfs root, e.g. `gpiochip512`. */
  name: string;
  /** First global sysfs GPIO number of the chip. */
  base: number;
  /** Number of lines (GPIOs) on the chip. */
  ngpio: number;
  label: string;
}

/** A chip directory that exists but whose files could not be read or made no sense. */
export interface UnreadableChip {
  name: string;
  problem: string;
}

/** The sysfs layout does not allow the requested mapping. The message says what was found. */
export class GpioNumberingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpioNumberingError';
  }
}

function errorText(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    return code && !e.message.startsWith(code) ? `${code}: ${e.message}` : e.message;
  }
  return String(e);
}

function readTrimmed(file: string): string {
  return readFileSync(file, 'utf8').trim();
}

function readWholeNumber(file: string): number {
  const text = readTrimmed(file);
  if (!/^\d+$/.test(text)) throw new Error(`${file} holds "${text}", not a whole number`);
  return Number(text);
}

/** Reads base/ngpio/label of every `gpiochip*` directory under `root`, sorted by base. */
export function listGpioChips(root: string = DEFAULT_SYSFS_GPIO_ROOT): {
  chips: GpioChipInfo[];
  unreadable: UnreadableChip[];
} {
  let names: string[];
  try {
    names = readdirSync(root).filter((n) => /^gpiochip\d+$/.test(n));
  } catch (e) {
    throw new GpioNumberingError(
      `cannot list ${root} (${errorText(e)}): this kernel has no sysfs GPIO interface ` +
        `(CONFIG_GPIO_SYSFS), or this is not a Raspberry Pi`,
    );
  }
  const chips: GpioChipInfo[] = [];
  const unreadable: UnreadableChip[] = [];
  for (const name of names) {
    const dir = join(root, name);
    try {
      chips.push({
        name,
        base: readWholeNumber(join(dir, 'base')),
        ngpio: readWholeNumber(join(dir, 'ngpio')),
        label: readTrimmed(join(dir, 'label')),
      });
    } catch (e) {
      unreadable.push({ name, problem: errorText(e) });
    }
  }
  chips.sort((a, b) => a.base - b.base);
  return { chips, unreadable };
}

function describeFound(chips: GpioChipInfo[], unreadable: UnreadableChip[]): string {
  const parts = [
    ...chips.map((c) => `${c.name} "${c.label}" (base ${c.base}, ${c.ngpio} lines)`),
    ...unreadable.map((u) => `${u.name} (unreadable: ${u.problem})`),
  ];
  return parts.length > 0 ? parts.join(', ') : 'no gpiochip at all';
}

/**
 * Finds the gpiochip that owns the header's BCM GPIOs, by label. Throws a GpioNumberingError that
 * lists the labels looked for and every chip found when there is none, or when two chips claim
 * the same header label (guessing between them could drive the wrong pin).
 */
export function findHeaderChip(root: string = DEFAULT_SYSFS_GPIO_ROOT): GpioChipInfo {
  const { chips, unreadable } = listGpioChips(root);
  for (const label of HEADER_CHIP_LABELS) {
    const matching = chips.filter((c) => c.label === label);
    if (matching.length > 1) {
      throw new GpioNumberingError(
        `${root}: more than one gpiochip is labelled "${label}" (${matching.map((c) => c.name).join(', ')}); ` +
          `cannot tell which one drives the header`,
      );
    }
    const chip = matching[0];
    if (chip) return chip;
  }
  throw new GpioNumberingError(
    `no header gpiochip in ${root}: looked for a label of ${HEADER_CHIP_LABELS.map((l) => `"${l}"`).join(', ')}; ` +
      `found ${describeFound(chips, unreadable)}`,
  );
}

/** `chip.base + bcm`, after checking that `bcm` is a line of the chip. */
export function sysfsNumberOnChip(chip: GpioChipInfo, bcm: number): number {
  if (!Number.isInteger(bcm) || bcm < 0 || bcm >= chip.ngpio) {
    throw new GpioNumberingError(
      `BCM${bcm} is out of range: the header chip ${chip.name} "${chip.label}" has ${chip.ngpio} lines ` +
        `(BCM 0..${chip.ngpio - 1})`,
    );
  }
  return chip.base + bcm;
}

/** The sysfs GPIO number of header pin `bcm` (BCM numbering, not the physical pin number). */
export function bcmToSysfs(bcm: number, root: string = DEFAULT_SYSFS_GPIO_ROOT): number {
  return sysfsNumberOnChip(findHeaderChip(root), bcm);
}
