/**
 * Where the model proxy sends a request: a profile's `--llm-upstream` URL, parsed once per
 * upstream (two `URL`s and their setters cost a request about 45 µs, run cold between
 * requests: docs/benchmarks.md), and the agent's path and query appended to its base path as
 * they came.
 */

/** An upstream's URL in the parts a request to it is made from, parsed once. */
export interface UpstreamBase {
  https: boolean;
  /** Without an IPv6 address's brackets, as `http.request` takes it. */
  hostname: string;
  port: string;
  /** `host[:port]`, for the Host header. */
  host: string;
  origin: string;
  /** The base path without its trailing slashes. */
  path: string;
  /** `user:password` when the URL carries them. */
  auth: string | undefined;
}

/** Upstreams parsed so far: a profile's upstream is read at every request it makes. */
const BASES = new Map<string, UpstreamBase>();
const MOST_BASES = 256;

/** The parts of `upstream` (a profile's `--llm-upstream`), parsed at its first request. */
export function baseOf(upstream: string): UpstreamBase {
  let base = BASES.get(upstream);
  if (base) return base;
  const u = new URL(upstream);
  base = {
    https: u.protocol === 'https:',
    hostname: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: u.port,
    host: u.host,
    origin: u.origin,
    path: u.pathname.replace(/\/+$/, ''),
    auth:
      u.username === ''
        ? undefined
        : `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`,
  };
  if (BASES.size >= MOST_BASES) BASES.clear();
  BASES.set(upstream, base);
  return base;
}

/** The upstream path of `rest` (the path after the token, with its query) under `base`. */
export function pathOf(base: UpstreamBase, rest: string): string {
  const q = rest.indexOf('?');
  const path = q < 0 ? rest : rest.slice(0, q);
  return `${base.path}/${path.replace(/^\/+/, '')}${q < 0 ? '' : rest.slice(q)}`;
}
