import { describe, expect, it } from 'vitest';
import type { InstanceConfig } from '../../../src/core/config/index.js';
import { bearerMatches } from '../../../src/services/dispatch-endpoint.js';
import { FailedAuthLimiter } from '../../../src/services/ws-gateway/failed-auth.js';
import { parseClientMessage } from '../../../src/services/ws-gateway/protocol.js';
import { gatewaySettings, normaliseOrigin } from '../../../src/services/ws-gateway/settings.js';

describe('ws gateway rules', () => {
  it('blocks an IP after ten failures within a minute, and only until that minute has passed', () => {
    let now = 0;
    const limiter = new FailedAuthLimiter(10, 60_000, () => now);
    for (let i = 0; i < 9; i += 1) limiter.fail('10.0.0.1');
    expect(limiter.blocked('10.0.0.1')).toBe(false);
    limiter.fail('10.0.0.1');
    expect(limiter.blocked('10.0.0.1')).toBe(true);
    expect(limiter.blocked('10.0.0.2')).toBe(false);
    now = 59_999;
    expect(limiter.blocked('10.0.0.1')).toBe(true);
    now = 60_000;
    expect(limiter.blocked('10.0.0.1')).toBe(false);
    limiter.fail('10.0.0.3');
    now = 200_000;
    limiter.prune();
    expect(limiter.blocked('10.0.0.3')).toBe(false);
  });

  it('reads auth and pong messages and nothing else', () => {
    expect(parseClientMessage('{"type":"auth","token":"t"}')).toEqual({ type: 'auth', token: 't' });
    expect(parseClientMessage('{"type":"pong","ts":1}')).toEqual({ type: 'pong' });
    expect(parseClientMessage('{"type":"auth","token":""}').type).toBe('invalid');
    expect(parseClientMessage('{"type":"auth","token":7}').type).toBe('invalid');
    expect(parseClientMessage('[1]').type).toBe('invalid');
    expect(parseClientMessage('null').type).toBe('invalid');
    expect(parseClientMessage('{"type":"subscribe"}').type).toBe('invalid');
    expect(parseClientMessage('nope').type).toBe('invalid');
  });

  it('compares the dispatch token exactly, whatever its length', () => {
    const token = 'dispatch-token-0123456789-abcdefghijklmnop';
    expect(bearerMatches(`Bearer ${token}`, token)).toBe(true);
    expect(bearerMatches(`bearer ${token}`, token)).toBe(false);
    expect(bearerMatches(`Bearer ${token}x`, token)).toBe(false);
    expect(bearerMatches(`Bearer ${token.slice(1)}`, token)).toBe(false);
    expect(bearerMatches(undefined, token)).toBe(false);
    expect(bearerMatches('Bearer ', token)).toBe(false);
  });

  it('normalises allowed origins and never allows the null origin', () => {
    expect(normaliseOrigin('https://data.acme.example/some/path')).toBe('https://data.acme.example');
    expect(normaliseOrigin('null')).toBeNull();
    expect(normaliseOrigin('not a url')).toBeNull();
    const settings = gatewaySettings(
      {
        ...defaults(),
        allowed_origins: ['https://data.acme.example/', 'null', 'http://localhost:8000'],
      },
      '',
    );
    expect([...settings.allowedOrigins]).toEqual(['https://data.acme.example', 'http://localhost:8000']);
    expect(settings.dispatchToken).toBeNull();
    expect(settings.recheckMs).toBe(300_000);
  });
});

function defaults(): InstanceConfig['ws_gateway'] {
  return {
    host: '0.0.0.0',
    port: 8765,
    public_url: '',
    dispatch_host: '127.0.0.1',
    dispatch_port: 8766,
    dispatch_url: 'http://127.0.0.1:8766',
    max_connections_per_user: 5,
    heartbeat_seconds: 30,
    missed_heartbeats: 3,
    auth_timeout_seconds: 10,
    recheck_seconds: 300,
    in_process: false,
  };
}
