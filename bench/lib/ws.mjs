// Loads ws's own Receiver and Sender (the classes its WebSocket uses) and
// reports which masking implementation ws picked up.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const wsRoot = dirname(require.resolve('ws/package.json'));
// Same absolute paths as ws's own requires, so these are the module instances ws uses.
const wsRequire = createRequire(join(wsRoot, 'index.js'));

export const { Receiver, Sender } = require('ws');
/** ws's masking functions (lib/buffer-util.js), as its Receiver and Sender call them. */
export const wsBufferUtil = wsRequire('./lib/buffer-util.js');
export const wsVersion = require('ws/package.json').version;

/**
 * How ws masks: 'bufferutil (native)' when ws/lib/buffer-util.js wrapped the
 * bufferutil addon's native functions, 'http.websocketMask' on runtimes that
 * provide it, otherwise 'js' (ws's byte loops).
 */
export function wsMaskImplementation() {
  const bufferUtil = wsRequire('./lib/buffer-util.js');
  if (typeof require('node:http').websocketMask === 'function') return 'http.websocketMask';
  if (process.env.WS_NO_BUFFER_UTIL) return 'js (WS_NO_BUFFER_UTIL set)';
  let addon;
  try {
    addon = wsRequire('bufferutil');
  } catch {
    return 'js (bufferutil not installed)';
  }
  // ws wraps the addon only when require('bufferutil') succeeded; its wrapper
  // mentions bufferUtil, its plain loops do not.
  const wrapped = /bufferUtil\.unmask/.test(bufferUtil.unmask.toString());
  const native = /\[native code\]/.test(addon.unmask.toString());
  if (wrapped && native) return `bufferutil ${wsRequire('bufferutil/package.json').version} (native)`;
  if (wrapped) return 'bufferutil (JS fallback, no native build)';
  return 'js';
}
