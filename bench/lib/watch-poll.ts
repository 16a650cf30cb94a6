/**
 * An experiment, not a setting: preloaded into `warden serve` (`node --import`) by
 * `dispatch-latency --watch-poll-ms N`, it turns every 5 ms interval timer into an N ms one.
 * In `serve` the only such timer is the SQLite `data_version` watch (WATCH_POLL_MS in
 * src/store/sqlite/driver.ts), so this shows what that poll costs without editing warden.
 */
const pollMs = Number(process.env.BENCH_WATCH_POLL_MS);
if (Number.isFinite(pollMs) && pollMs > 0) {
  const original = globalThis.setInterval;
  const patched = (handler: () => void, ms?: number): NodeJS.Timeout =>
    original(handler, ms === 5 ? pollMs : ms);
  globalThis.setInterval = patched;
}
