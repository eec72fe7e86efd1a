/**
 * How big a board may be. Apart from the board schema (schema.ts) so that the program bounds, and
 * through them the dashboard, can read these numbers without bundling the schema library.
 * 12 zones: the largest garments have 12 chambers (DESIGN.md, "3–12 air chambers").
 */
export const MAX_ZONES = 12;
export const MAX_STATIONS = 8;
