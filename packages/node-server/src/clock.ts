/**
 * The clock the server core runs its timers on: the handshake deadline, the
 * wait for a closing handshake, the heartbeat and the shutdown wait. With the
 * byte stream (byte-stream.ts) it is all the core needs from a runtime, and
 * passing one in (`clock` option) lets a test or a simulation drive every
 * timeout without waiting for it.
 */
import {
  clearInterval as platformClearInterval,
  clearTimeout as platformClearTimeout,
  setInterval as platformSetInterval,
  setTimeout as platformSetTimeout,
} from 'node:timers';

/**
 * Whatever a clock's `setTimeout`/`setInterval` returned, handed back only to
 * the same clock's `clearTimeout`/`clearInterval`. Never `null` or
 * `undefined`: the core keeps `undefined` for "no timer armed".
 */
export type TimerHandle = NonNullable<unknown>;

/**
 * Timers, with the meaning of the platform's functions of the same names.
 * Callbacks run later, never inside the call that armed them, and not after
 * their timer was cleared. Clearing a timer that already fired or was
 * already cleared does nothing.
 *
 * A clock's timers never keep a process alive by themselves (`unref` where
 * the runtime has it). This holds for the one-shot timers too, with no
 * timeout lost: each one guards a connection (a handshake, a closing
 * handshake, a refusal being written) or a shutdown waiting for connections,
 * is cleared when that ends, and so only runs while a socket is open — and
 * an open socket keeps the process alive on its own. An application that
 * let everything else go is not held up by them.
 */
export interface Clock {
  /** Runs `callback` once, `ms` milliseconds from now. */
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** Runs `callback` every `ms` milliseconds until cleared. */
  setInterval(callback: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle): void;
}

/**
 * The platform's timers, unref'd. `node:timers` rather than the globals:
 * Node, Bun and Deno all provide it, and its handles can be unref'd on each
 * (Deno's global `setTimeout` returns a number, which has no `unref`).
 */
export const systemClock: Clock = {
  setTimeout(callback, ms) {
    return platformSetTimeout(callback, ms).unref();
  },
  clearTimeout(handle) {
    platformClearTimeout(handle as ReturnType<typeof platformSetTimeout>);
  },
  setInterval(callback, ms) {
    return platformSetInterval(callback, ms).unref();
  },
  clearInterval(handle) {
    platformClearInterval(handle as ReturnType<typeof platformSetInterval>);
  },
};
