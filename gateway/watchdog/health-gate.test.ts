/**
 * When the systemd watchdog is fed. The notifier itself runs under the real pm2 in
 * test/pm2.test.ts (against a stand-in notify socket) and under a real systemd in
 * test/nspawn/nspawn.test.ts; this file pins down the decision.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assess, healthUrl, pingIntervalMs } from './health-gate.js';

describe('watchdog health gate', () => {
  it('feeds the watchdog only when the controller answers with a loop and the web process is connected to it', () => {
    const healthy = assess({ controllerLoopPeriodMs: 10, health: { status: 'ok', controller: 'connected' } });
    assert.deepEqual(healthy, {
      healthy: true,
      status: 'controller ticking every 10 ms, web connected (ok)',
    });
    // A degraded web process (e.g. a restored database waiting for acknowledgement) still serves staff.
    assert.equal(
      assess({ controllerLoopPeriodMs: 20, health: { status: 'degraded', controller: 'connected' } }).healthy,
      true,
    );
  });

  it('a silent controller, a web process without it, or no web process: no ping, and the status says why', () => {
    const stuck = assess({
      controllerError: 'the controller did not answer "hello" within 1000 ms',
      health: { status: 'ok', controller: 'connected' },
    });
    assert.deepEqual(stuck, {
      healthy: false,
      status: 'unhealthy: controller: the controller did not answer "hello" within 1000 ms',
    });
    assert.deepEqual(
      assess({ controllerLoopPeriodMs: 10, health: { status: 'degraded', controller: 'disconnected' } }),
      {
        healthy: false,
        status: 'unhealthy: web: not connected to the controller (controller: disconnected)',
      },
    );
    assert.deepEqual(
      assess({
        controllerLoopPeriodMs: 10,
        healthError: 'GET http://127.0.0.1:8080/api/health: fetch failed',
      }),
      {
        healthy: false,
        status: 'unhealthy: web: GET http://127.0.0.1:8080/api/health: fetch failed',
      },
    );
    assert.equal(assess({ controllerLoopPeriodMs: 0, health: { controller: 'connected' } }).healthy, false);
    assert.equal(assess({}).status, 'unhealthy: controller: no answer; web: no answer from /api/health');
  });

  it('pings four times per watchdog period, and every 5 s without one', () => {
    assert.equal(pingIntervalMs('30000000'), 7500);
    assert.equal(pingIntervalMs('6000000'), 1500);
    assert.equal(pingIntervalMs(undefined), 5000);
    assert.equal(pingIntervalMs('garbage'), 5000);
    assert.equal(pingIntervalMs('1000'), 100, 'never faster than every 100 ms');
  });

  it('asks for health on loopback when the web process listens on every address', () => {
    assert.equal(healthUrl('0.0.0.0', 8080), 'http://127.0.0.1:8080/api/health');
    assert.equal(healthUrl('::', 8080), 'http://[::1]:8080/api/health');
    assert.equal(healthUrl('127.0.0.1', 18123), 'http://127.0.0.1:18123/api/health');
    assert.equal(healthUrl('fe80::1', 80), 'http://[fe80::1]:80/api/health');
    // Under HTTPS (PRESSO_TLS_CERT set) the same loopback address, which the certificate names.
    assert.equal(healthUrl('0.0.0.0', 8443, true), 'https://127.0.0.1:8443/api/health');
  });
});
