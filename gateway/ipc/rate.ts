/**
 * The telemetry rate, defined once. The controller builds a frame per station at FRAME_RATE_HZ;
 * the controller socket passes each one on when it arrives (capped at the same rate per client,
 * for a producer that would go faster), and the web process's live hub pushes on arrival too.
 * Nothing else waits on a timer, so a sample reaches a browser one socket hop plus one websocket
 * after the controller built it.
 *
 * 20 Hz is what a pressure trace on a screen can show (a fill takes seconds, the regulator's
 * band is ±5 mmHg); the wall board's tiles need less: OVERVIEW_RATE_HZ, every fourth frame.
 */
export const FRAME_RATE_HZ = 20;
export const FRAME_INTERVAL_MS = 1000 / FRAME_RATE_HZ;
/** What a tile on the wall board is refreshed at; a divisor of FRAME_RATE_HZ. */
export const OVERVIEW_RATE_HZ = 5;
/** A station whose view has not changed still gets a message this often, so a browser can tell a
 * quiet station (a zone holding) from a dead link (its staleness limit is 2 s). */
export const KEEPALIVE_MS = 1000;
