import { spawnSync } from 'node:child_process';

/**
 * The `unshare` prefix that gives a private mount namespace here (the fake-sysfs GPIO tests bind
 * their sysfs over /sys/class/gpio in one), or why the namespace tests must be skipped.
 */
export function probeUnshare(): { prefix: string[] } | { skip: string } {
  const tries = [
    ['unshare', '-m', '--propagation', 'private', '--'],
    // Without root, an unprivileged user namespace may still allow the mount.
    ['unshare', '-Urm', '--propagation', 'private', '--'],
  ];
  const why: string[] = [];
  for (const prefix of tries) {
    const [cmd, ...args] = prefix as [string, ...string[]];
    const r = spawnSync(cmd, [...args, 'true'], { encoding: 'utf8' });
    if (r.status === 0) return { prefix };
    why.push(`${prefix.join(' ')}: ${r.error?.message ?? (r.stderr.trim() || `exit ${r.status}`)}`);
  }
  return {
    skip: `private mount namespace not permitted here (needs root or user namespaces): ${why.join('; ')}`,
  };
}
