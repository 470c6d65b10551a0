/**
 * `npm run setup:native`: makes tfjs's native backend ('tensorflow', `@tensorflow/tfjs-node`) work on a machine
 * where the package's own installer failed (it downloads libtensorflow and a prebuilt binding from a host
 * that may be unreachable; npm then carries on without the optional package).
 *
 * It builds the binding against the TensorFlow C library shipped in the `tensorflow-cpu` wheel, fetched with
 * pip from its configured index (a local one works):
 *   1. nothing to do if `@tensorflow/tfjs-node` already loads (installed normally, or built by an earlier run);
 *   2. checks for a C++ compiler and make, Node's headers, python3 with pip;
 *   3. `pip download` of the wheel into the cache folder (.cache/native/, git-ignored; kept for the next run);
 *   4. `npm install --no-save --ignore-scripts @tensorflow/tfjs-node@<version in package.json>` if absent
 *      (package.json and package-lock.json are left as they were);
 *   5. the wheel's two libraries into the package's deps/lib/, the few headers the binding includes into
 *      deps/include/, and the library names its build and installer expect, as symlinks;
 *   6. `npm rebuild @tensorflow/tfjs-node`: node-pre-gyp finds no prebuilt binding and compiles it with
 *      node-gyp (log in the cache folder);
 *   7. loads it in a child process (backend 'tensorflow', a small matmul) and removes the build-only headers.
 *
 * Progress goes to stderr; a missing requirement is one `error:` line and exit 2. With `--if-available` (for CI)
 * a missing python3, pip or wheel is a note and exit 0 instead.
 * For tests: SETUP_NATIVE_ROOT (the project folder whose node_modules receives the package) and
 * SETUP_NATIVE_CACHE (the cache folder) override the defaults.
 */
import './main.ts';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, resolve } from 'node:path';
import { UserError } from '../core/errors.ts';
import { EXIT, main } from './main.ts';

const PKG = '@tensorflow/tfjs-node';
const WHEEL = 'tensorflow-cpu';
const WHEEL_VERSION = '2.21.0';
/** The libtensorflow version tfjs-node's installer looks for: when this file exists it downloads nothing. */
const INSTALLER_LIB = 'libtensorflow.so.2.9.1';
/** What the binding's sources include, and what those include in turn (the closure, in the wheel's layout). */
const HEADERS = [
  'tensorflow/include/tensorflow/c/',
  'tensorflow/include/xla/tsl/c/',
  'tensorflow/include/tensorflow/core/platform/ctstring',
  'tensorflow/include/tsl/platform/ctstring',
];
const LIBS = ['tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2'];
const LINKS: [string, string][] = [
  ['libtensorflow.so', 'libtensorflow_cc.so.2'],
  ['libtensorflow_framework.so', 'libtensorflow_framework.so.2'],
  [INSTALLER_LIB, 'libtensorflow_cc.so.2'],
];

/** What is missing is the wheel or the means to fetch it (not the build tools): `--if-available` turns it into a note. */
class Unavailable extends UserError {}

const ifAvailable = process.argv.includes('--if-available');
const root = resolve(process.env.SETUP_NATIVE_ROOT ?? new URL('../..', import.meta.url).pathname);
const cache = resolve(process.env.SETUP_NATIVE_CACHE ?? join(root, '.cache', 'native'));
const pkgDir = join(root, 'node_modules', PKG);
const started = Date.now();

function say(msg: string): void {
  process.stderr.write(`setup:native: ${msg}\n`);
}

function run(cmd: string, args: string[], opts: SpawnSyncOptions = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  return { ok: r.status === 0 && !r.error, status: r.status, out: String(r.stdout ?? ''), err: String(r.stderr ?? ''), missing: (r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT' };
}

function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return lines[lines.length - 1] ?? '';
}

/** The child that proves the backend works: tfjs-node loads, its backend is 'tensorflow', a matmul is right. */
const PROBE = `
process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
const tf = require(${JSON.stringify(PKG)});
if (tf.getBackend() !== 'tensorflow') throw new Error('backend is ' + tf.getBackend());
const y = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]])).dataSync();
if (y[0] !== 17 || y[1] !== 39) throw new Error('matmul gave ' + Array.from(y));
console.log(tf.version.tfjs + ' ' + (tf.backend().binding?.TF_Version ?? ''));
`;

function probe(): { ok: boolean; why: string; version: string } {
  const r = run(process.execPath, ['-e', PROBE], { cwd: root, env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } });
  const why = r.err.split('\n').find((l) => /^\w*Error: /.test(l))?.trim() ?? lastLine(r.err);
  return { ok: r.ok, why, version: r.out.trim() };
}

function installed(): boolean {
  return existsSync(join(pkgDir, 'package.json'));
}

function wantedVersion(): string {
  const pj = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const v: string | undefined = pj.optionalDependencies?.[PKG] ?? pj.dependencies?.[PKG];
  if (!v) throw new UserError(`${join(root, 'package.json')} does not list ${PKG}`);
  return v;
}

function checkCompiler(): void {
  const cxx = process.env.CXX ? onPath(process.env.CXX.split(' ')[0]) ?? (existsSync(process.env.CXX) ? process.env.CXX : null) : onPath('g++') ?? onPath('c++') ?? onPath('clang++');
  const missing = [cxx ? null : 'a C++ compiler (g++, c++ or clang++)', onPath('make') ? null : 'make'].filter(Boolean);
  if (missing.length) {
    throw new UserError(`${missing.join(' and ')} not found on PATH: needed to build the ${PKG} binding (e.g. apt-get install g++ make)`);
  }
}

/** Node's C headers for node-gyp: npm's nodedir, else the install prefix of this node, else node-gyp's cache. */
function nodeHeaders(): string {
  const has = (dir: string | undefined) => !!dir && existsSync(join(dir, 'include', 'node', 'node_api.h'));
  const fromEnv = process.env.npm_config_nodedir;
  if (has(fromEnv)) return fromEnv!;
  const prefix = resolve(dirname(process.execPath), '..');
  if (has(prefix)) return prefix;
  const gyp = join(process.env.HOME ?? '', '.cache', 'node-gyp', process.versions.node);
  if (has(gyp)) return gyp;
  throw new UserError(
    `Node's headers not found (no include/node/node_api.h under ${[fromEnv, prefix, gyp].filter(Boolean).join(', ')}): ` +
      `install them (e.g. the nodejs dev package) or set npm_config_nodedir`,
  );
}

function checkPip(): string {
  const python = onPath('python3') ? 'python3' : null;
  if (!python) throw new Unavailable(`python3 not found on PATH: needed to fetch the ${WHEEL} wheel with pip`);
  const r = run(python, ['-m', 'pip', '--version']);
  if (!r.ok) throw new Unavailable(`pip is not available (python3 -m pip --version: ${lastLine(r.err) || `exit ${r.status}`})`);
  return python;
}

function findWheel(): string | null {
  if (!existsSync(cache)) return null;
  const name = `${WHEEL.replace('-', '_')}-${WHEEL_VERSION}-`;
  const f = readdirSync(cache).find((n) => n.startsWith(name) && n.endsWith('.whl'));
  return f ? join(cache, f) : null;
}

function fetchWheel(python: string): string {
  const have = findWheel();
  if (have) {
    say(`wheel: ${have} (cached)`);
    return have;
  }
  mkdirSync(cache, { recursive: true });
  say(`downloading the ${WHEEL} ${WHEEL_VERSION} wheel with pip into ${cache} (~274 MB)…`);
  const r = run(python, ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--dest', cache, `${WHEEL}==${WHEEL_VERSION}`]);
  const got = findWheel();
  if (!r.ok || !got) {
    const why = r.err.split('\n').find((l) => /^ERROR/.test(l)) ?? lastLine(r.err) ?? `exit ${r.status}`;
    throw new Unavailable(`the ${WHEEL} ${WHEEL_VERSION} wheel is not available from pip's configured index (${why.trim()})`);
  }
  return got;
}

function installPackage(version: string): void {
  if (installed()) {
    const have = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).version;
    if (have === version) return;
    say(`${PKG} ${have} is installed, ${version} wanted: reinstalling`);
  }
  say(`npm install --no-save --ignore-scripts ${PKG}@${version}…`);
  // npm leaves both files alone with --no-save; kept and restored anyway, so this never edits them.
  const files = ['package.json', 'package-lock.json'].map((f) => join(root, f));
  const before = files.map((f) => (existsSync(f) ? readFileSync(f) : null));
  const r = run('npm', ['install', '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', `${PKG}@${version}`], { cwd: root });
  files.forEach((f, i) => {
    const was = before[i];
    if (was && !readFileSync(f).equals(was)) writeFileSync(f, was);
  });
  if (!r.ok || !installed()) {
    throw new UserError(`npm install of ${PKG}@${version} failed (${lastLine(r.err) || (r.missing ? 'npm not found' : `exit ${r.status}`)})`);
  }
}

/** Extracts the libraries and headers from the wheel (a zip) with python3's zipfile. */
function extract(python: string, wheel: string): void {
  const deps = join(pkgDir, 'deps');
  rmSync(deps, { recursive: true, force: true });
  mkdirSync(join(deps, 'lib'), { recursive: true });
  mkdirSync(join(deps, 'include'), { recursive: true });
  say(`extracting libtensorflow_cc.so.2, libtensorflow_framework.so.2 and the C API headers into ${deps}…`);
  const script = `
import json, os, shutil, sys, zipfile
wheel, deps, libs, headers = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
with zipfile.ZipFile(wheel) as z:
    names = set(z.namelist())
    for lib in libs:
        if lib not in names:
            sys.exit('the wheel has no ' + lib)
        with z.open(lib) as src, open(os.path.join(deps, 'lib', os.path.basename(lib)), 'wb') as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    n = 0
    for name in names:
        if name.endswith('/') or not any(name.startswith(h) for h in headers):
            continue
        out = os.path.join(deps, 'include', name[len('tensorflow/include/'):])
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with z.open(name) as src, open(out, 'wb') as dst:
            shutil.copyfileobj(src, dst)
        n += 1
    if n == 0:
        sys.exit('the wheel has no C API headers')
`;
  const r = run(python, ['-c', script, wheel, deps, JSON.stringify(LIBS), JSON.stringify(HEADERS)]);
  if (!r.ok) throw new UserError(`cannot extract from ${wheel}: ${lastLine(r.err) || `exit ${r.status}`}`);
  for (const [link, target] of LINKS) symlinkSync(target, join(deps, 'lib', link));
}

function rebuild(nodedir: string): void {
  const log = join(cache, 'build.log');
  say(`npm rebuild ${PKG}: compiling the binding with node-gyp (about a minute; log: ${log})…`);
  const fd = openSync(log, 'w');
  let r;
  try {
    r = spawnSync('npm', ['rebuild', PKG, '--foreground-scripts'], {
      cwd: root,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, npm_config_nodedir: nodedir },
    });
  } finally {
    closeSync(fd);
  }
  if (r.status !== 0 || r.error) {
    throw new UserError(`building the ${PKG} binding failed (exit ${r.status ?? r.error?.message}): see ${log}`);
  }
  // node-gyp's intermediate objects (build-tmp-napi-v8/ next to lib/napi-v8/) are not needed at run time.
  for (const d of readdirSync(pkgDir)) {
    if (d === 'build' || d.startsWith('build-tmp-')) rmSync(join(pkgDir, d), { recursive: true, force: true });
  }
}

await main(async () => {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(`npm run setup:native [-- --if-available]

Builds ${PKG}'s binding against the ${WHEEL} ${WHEEL_VERSION} wheel (from pip's configured index) when the
package's own install failed; does nothing when the native backend already loads. Needs python3 with pip,
a C++ compiler, make and Node's headers; takes a minute or more and ~1.1 GB of disk (see the README).
  --if-available   exit 0 with a note when python3, pip or the wheel cannot be had (for CI); a missing
                   compiler or a failed build is still an error\n`);
    return EXIT.ok;
  }
  const req = createRequire(join(root, 'package.json'));
  let resolvable = false;
  try {
    req.resolve(PKG);
    resolvable = true;
  } catch {
    // not installed: build it
  }
  if (resolvable) {
    const p = probe();
    if (p.ok) {
      const ours = existsSync(join(pkgDir, 'deps', 'lib', INSTALLER_LIB));
      say(
        ours
          ? `the native backend is ready (${PKG} ${p.version}, built from the ${WHEEL} wheel); nothing to do`
          : `the native backend is ready (${PKG} ${p.version}, installed by npm); nothing to do`,
      );
      return EXIT.ok;
    }
    say(`${PKG} is present but does not load (${p.why}): building it`);
  }

  checkCompiler();
  const nodedir = nodeHeaders();
  let python: string, wheel: string;
  try {
    python = checkPip();
    wheel = fetchWheel(python);
  } catch (e) {
    if (!(ifAvailable && e instanceof Unavailable)) throw e;
    say(`skipped (--if-available): ${e.message}; the native backend's tests will be skipped`);
    return EXIT.ok;
  }
  installPackage(wantedVersion());
  extract(python, wheel);
  rebuild(nodedir);
  say('checking: loading it in a child process…');
  const p = probe();
  rmSync(join(pkgDir, 'deps', 'include'), { recursive: true, force: true });
  if (!p.ok) throw new UserError(`the ${PKG} binding was built but does not load (${p.why}); build log: ${join(cache, 'build.log')}`);
  say(`the native backend is ready (${PKG} ${p.version}) in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return EXIT.ok;
});
