/**
 * A process whose stdout or stderr reader goes away (a pipe into `head`, a killed pm2 daemon, a
 * closed terminal) gets EPIPE on its next log line. Unhandled, that error is an uncaught
 * exception; the handler's own log line fails the same way, and the process spins on it: a
 * controller seen doing exactly that ignored SIGTERM at 100 % CPU. The log is lost either way; the
 * process must carry on, and stop when told to.
 */
export function surviveClosedOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', () => {
      // Nowhere left to report it: the stream that failed is where the report would go.
    });
  }
}
