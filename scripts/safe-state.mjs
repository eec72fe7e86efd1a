#!/usr/bin/env node
// Drives every output of the board in PRESSO_BOARD to the safe state (pumps off, vents open) and
// exits: 0 safe (or nothing physical to drive), 1 some device could not be made safe, 2 no board.
// systemd runs it as ExecStopPost= after every exit of the gateway. It needs only the compiled
// drivers (npm run build), not the controller or the web process. See gateway/safe-state/.
await import('../dist/gateway/safe-state/main.js');
