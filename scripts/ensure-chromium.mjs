#!/usr/bin/env node
// Makes sure Debian's chromium is at /usr/bin/chromium for the browser tests.
// Present: exits 0 silently. Missing and root: installs it with apt-get
// (Debian's package; runs `apt-get update` first). Missing and not root:
// exits 1 with the command to run.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CHROMIUM = '/usr/bin/chromium';

if (!existsSync(CHROMIUM)) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (process.platform !== 'linux' || !isRoot || !existsSync('/usr/bin/apt-get')) {
    console.error(
      `ensure-chromium: ${CHROMIUM} is missing. The browser tests need Debian's chromium:\n` +
        '  sudo apt-get update && sudo apt-get install -y chromium',
    );
    process.exit(1);
  }
  console.log('ensure-chromium: installing Debian chromium with apt-get (about a minute)...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
    execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env,
    });
  } catch (error) {
    console.error(`ensure-chromium: apt-get failed: ${error.message}`);
    process.exit(1);
  }
  if (!existsSync(CHROMIUM)) {
    console.error(`ensure-chromium: apt-get finished but ${CHROMIUM} is still missing`);
    process.exit(1);
  }
  console.log(`ensure-chromium: installed ${CHROMIUM}`);
}
