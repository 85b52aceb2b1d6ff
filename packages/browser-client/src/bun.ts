/**
 * Bun entry: Bun implements `node:net` and `node:tls`, so the Node dialer is
 * the default transport here too.
 */
export * from './node.js';
