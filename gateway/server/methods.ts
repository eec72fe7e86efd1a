/**
 * Which HTTP methods only read. Everything else may command: the request guard checks its origin,
 * auth requires a login for it, the audit records it, the journal logs it, and REST state reads
 * after it ask the controller again (plugins/controller-link.ts).
 */
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isRead(method: string): boolean {
  return READ_METHODS.has(method);
}
