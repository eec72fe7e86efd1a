// Types for the TypeScript that reads the pm2 process file (the bench starts the controller with
// the same heap flags).
export declare const CONTROLLER_NODE_ARGS: readonly string[];
export declare const apps: readonly Record<string, unknown>[];
