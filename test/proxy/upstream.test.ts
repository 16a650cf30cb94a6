import { describe, expect, it } from 'vitest';
import { baseOf, pathOf } from '../../src/proxy/upstream.js';

describe("the model proxy's upstream", () => {
  it('puts the agent’s path and query under the base path, slashes joined once', () => {
    const base = baseOf('http://127.0.0.1:8080/v1/');
    expect(base).toMatchObject({
      https: false,
      hostname: '127.0.0.1',
      port: '8080',
      host: '127.0.0.1:8080',
      origin: 'http://127.0.0.1:8080',
      path: '/v1',
      auth: undefined,
    });
    expect(pathOf(base, 'chat/completions')).toBe('/v1/chat/completions');
    expect(pathOf(base, '/messages?beta=true')).toBe('/v1/messages?beta=true');
    expect(pathOf(base, '')).toBe('/v1/');
  });

  it('takes an upstream with no path, over HTTPS on its default port', () => {
    const base = baseOf('https://api.example.com');
    expect(base).toMatchObject({ https: true, port: '', host: 'api.example.com', path: '' });
    expect(pathOf(base, 'v1/messages?beta=true&x=%20')).toBe('/v1/messages?beta=true&x=%20');
  });

  it('names an IPv6 host without brackets and keeps a user and password', () => {
    expect(baseOf('http://[::1]:9000/v1')).toMatchObject({
      hostname: '::1',
      host: '[::1]:9000',
    });
    expect(baseOf('http://u%40x:p%3Aw@gateway.local/v1').auth).toBe('u@x:p:w');
  });

  it('parses an upstream once', () => {
    expect(baseOf('http://127.0.0.1:1/a')).toBe(baseOf('http://127.0.0.1:1/a'));
  });
});
