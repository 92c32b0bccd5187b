// Set-up shared by `npm test` and `npm run demo`: install what is missing, once.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function run(cmd, args, opts = {}) {
  const label = [cmd, ...args].join(' ');
  console.log(`\n> ${label}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: ROOT, ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

export function mustRun(cmd, args, opts = {}) {
  const code = run(cmd, args, opts);
  if (code !== 0) {
    console.error(`\n${[cmd, ...args].join(' ')} failed with exit code ${code}`);
    process.exit(code);
  }
}

/**
 * node_modules is current when it exists and npm's own record of the tree
 * (node_modules/.package-lock.json) is not older than package-lock.json.
 */
export function ensureDependencies() {
  const lock = path.join(ROOT, 'package-lock.json');
  const record = path.join(ROOT, 'node_modules', '.package-lock.json');
  const fresh = existsSync(record) && statSync(record).mtimeMs >= statSync(lock).mtimeMs;
  if (fresh) return;
  console.log('Installing dependencies (npm ci) ...');
  // npm 11 skips install scripts not listed in allowScripts; none of ours needs one.
  mustRun('npm', ['ci', '--no-audit', '--no-fund']);
}

export const CHROMIUM = process.env.WEIGHTLENS_CHROMIUM || '/usr/bin/chromium';

/** Debian's chromium for the browser tests, via apt-get when it is missing. */
export function ensureChromium() {
  if (existsSync(CHROMIUM)) return;
  console.log(`${CHROMIUM} is missing: installing Debian's chromium with apt-get ...`);
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const sudo = asRoot ? [] : ['sudo', '-n'];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args) => (sudo.length ? run(sudo[0], [...sudo.slice(1), 'apt-get', ...args], { env }) : run('apt-get', args, { env }));
  if (apt(['update']) !== 0 || apt(['install', '-y', '--no-install-recommends', 'chromium', 'fonts-dejavu-core']) !== 0 || !existsSync(CHROMIUM)) {
    console.error(`Could not install chromium. Install it (apt-get install chromium) or set WEIGHTLENS_CHROMIUM to a Chromium binary.`);
    process.exit(1);
  }
}

/** Build the Next app unless the existing build is for the same sources. */
export function ensureBuild({ force = false } = {}) {
  const stampFile = path.join(ROOT, '.next', 'weightlens-stamp');
  const stamp = sourceStamp();
  if (!force && existsSync(path.join(ROOT, '.next', 'BUILD_ID')) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) {
    console.log('Using the existing production build (.next) — sources unchanged.');
    return;
  }
  mustRun('npm', ['run', 'build']);
  spawnSync('sh', ['-c', `printf %s '${stamp}' > '${stampFile}'`], { cwd: ROOT });
}

/** A cheap fingerprint of the app sources: git's view of HEAD plus uncommitted changes. */
function sourceStamp() {
  const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim();
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'app', 'components', 'lib', 'workers', 'public', 'next.config.js', 'package-lock.json'], {
    cwd: ROOT,
    encoding: 'utf8',
  }).stdout;
  let h = 2166136261;
  const s = `${head}\n${dirty}\n${dirty ? Date.now() : ''}`;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return `${head}:${h.toString(16)}`;
}
