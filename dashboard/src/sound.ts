/**
 * The high-priority alarm sound, made with WebAudio (no audio file, nothing for the CSP to allow).
 * IEC 60601-1-8's high-priority burst is 10 pulses (3 + 2, pause, 3 + 2) repeated; this plays
 * that rhythm at 880 Hz. Browsers only allow sound after a tap on the page, so the context is
 * resumed on the first pointer event.
 */
const PULSE_S = 0.15;
const GAP_S = 0.1;
/** Pulse slots of one burst (3 + 2, a pause, 3 + 2), in pulse periods. */
const SLOTS = [0, 1, 2, 4, 5, 10, 11, 12, 14, 15];
const BURST = SLOTS.map((i) => i * (PULSE_S + GAP_S));
const REPEAT_MS = 6000;

let ctx: AudioContext | null = null;
let timer: number | undefined;

function context(): AudioContext | null {
  if (ctx === null && typeof AudioContext !== 'undefined') ctx = new AudioContext();
  return ctx;
}

window.addEventListener(
  'pointerdown',
  () => {
    void context()?.resume();
  },
  { once: true },
);

function burst(): void {
  const c = context();
  if (c === null || c.state !== 'running') return;
  for (const at of BURST) {
    const osc = c.createOscillator();
    const gain = c.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.0001, c.currentTime + at);
    gain.gain.exponentialRampToValueAtTime(0.3, c.currentTime + at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, c.currentTime + at + PULSE_S);
    osc.connect(gain).connect(c.destination);
    osc.start(c.currentTime + at);
    osc.stop(c.currentTime + at + PULSE_S + 0.02);
  }
}

/** Starts or stops the repeating high-priority sound; calling it with the same value does nothing. */
export function highAlarmSound(on: boolean): void {
  if (on && timer === undefined) {
    burst();
    timer = window.setInterval(burst, REPEAT_MS);
  } else if (!on && timer !== undefined) {
    window.clearInterval(timer);
    timer = undefined;
  }
}
