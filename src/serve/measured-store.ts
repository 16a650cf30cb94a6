import type { Store } from '../store/store.js';
import type { HostInstruments } from './instruments.js';

/**
 * The store as `serve` uses it, each operation timed for `/metrics`
 * (`warden_store_operation_seconds{operation}`) and each stall warning it wrote counted. One
 * wrapper in front of the one interface, so no adapter and no caller carries metrics code.
 */
export function measuredStore(
  store: Store,
  measure: Pick<HostInstruments, 'storeOperation' | 'stallWarned'>,
): Store {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      const known = wrapped.get(key);
      if (known !== undefined) return known;
      const operation = String(key);
      const fn = value as (...args: unknown[]) => unknown;
      const timed = (...args: unknown[]): unknown => {
        const from = performance.now();
        const result = fn.apply(target, args);
        if (!(result instanceof Promise)) return result;
        const took = (): void => measure.storeOperation(operation, performance.now() - from);
        return result.then(
          (answer: unknown) => {
            took();
            if (operation === 'markStallWarning' && answer === true) measure.stallWarned();
            return answer;
          },
          (err: unknown) => {
            took();
            throw err;
          },
        );
      };
      wrapped.set(key, timed);
      return timed;
    },
  });
}
