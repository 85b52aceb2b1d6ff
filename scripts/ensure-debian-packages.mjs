#!/usr/bin/env node
// Makes sure the Debian packages the tests run against are installed:
// chromium (the browser tests), python3-websockets (a strict RFC 7692
// client for the node-server's interop test), tshark (the independent
// dissector the capture reader is checked against) and redis-server (the
// broker the topics adapter fans out through).
//
// `node scripts/ensure-debian-packages.mjs [package...]` checks the named
// packages, or all of them without arguments. Each is recognised by a file it
// installs, so the check needs neither dpkg nor the network. All present:
// exits 0 silently. Some missing and root: installs them with apt-get
// (`apt-get update` first). Missing and not root: exits 1 with the command to run.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** Package name → the file whose presence shows it is installed. */
export const DEBIAN_PACKAGES = {
  chromium: '/usr/bin/chromium',
  // Debian's module for Debian's interpreter: the test runs /usr/bin/python3, not whatever python3 is on PATH.
  'python3-websockets': '/usr/lib/python3/dist-packages/websockets/__init__.py',
  tshark: '/usr/bin/tshark',
  'redis-server': '/usr/bin/redis-server',
};

/** Returns normally when every package is present (installing if it can); otherwise exits 1. */
export function ensureDebianPackages(names = Object.keys(DEBIAN_PACKAGES)) {
  for (const name of names) {
    if (!(name in DEBIAN_PACKAGES)) {
      console.error(
        `ensure-debian-packages: unknown package ${name} (known: ${Object.keys(DEBIAN_PACKAGES).join(', ')})`,
      );
      process.exit(1);
    }
  }
  const missing = names.filter((name) => !existsSync(DEBIAN_PACKAGES[name]));
  if (missing.length === 0) return;
  const list = missing.join(' ');
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (process.platform !== 'linux' || !isRoot || !existsSync('/usr/bin/apt-get')) {
    console.error(
      `ensure-debian-packages: missing ${missing.map((n) => `${n} (${DEBIAN_PACKAGES[n]})`).join(', ')}. The tests need Debian's packages:\n` +
        `  sudo apt-get update && sudo apt-get install -y ${list}`,
    );
    process.exit(1);
  }
  console.log(`ensure-debian-packages: installing ${list} with apt-get (chromium takes about a minute)...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
    execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env });
  } catch (error) {
    console.error(`ensure-debian-packages: apt-get failed: ${error.message}`);
    process.exit(1);
  }
  const still = missing.filter((name) => !existsSync(DEBIAN_PACKAGES[name]));
  if (still.length > 0) {
    console.error(
      `ensure-debian-packages: apt-get finished but ${still.map((n) => DEBIAN_PACKAGES[n]).join(', ')} is still missing`,
    );
    process.exit(1);
  }
  console.log(`ensure-debian-packages: installed ${list}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  ensureDebianPackages(process.argv.length > 2 ? process.argv.slice(2) : undefined);
}
