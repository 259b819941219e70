// The package as users get it: `npm pack`, then `npm i -g` of the tarball into a temporary prefix,
// with no network (the dependencies travel in the tarball). The install script builds our libpcap
// binding (sniff -D says it captures through it), the man page and the docs are installed, and
// without libpcap's headers the build says so in one line and lets the install go on.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from './cli/run.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
const tmp = mkdtempSync(join(tmpdir(), 'lispscope-package-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const haveHeaders = ['/usr/include/pcap/pcap.h', '/usr/local/include/pcap/pcap.h'].some(existsSync);
if (!haveHeaders) {
  if (process.env.CI === 'true') throw new Error('libpcap-dev is needed in CI to build the binding of the packed package');
  console.warn('skipping the packed install: libpcap-dev is not installed');
}

const run = (cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) =>
  spawnSync(cmd, args, { cwd: opts.cwd ?? ROOT, encoding: 'utf8', env: { ...process.env, ...opts.env }, timeout: 300_000 });

describe('the packed package', () => {
  it.skipIf(!haveHeaders)('installs globally from its tarball, offline, and sniffs through our own binding', () => {
    // npm test has just built dist/ and the man page: pack them as they are.
    const pack = run('npm', ['pack', '--ignore-scripts', '--pack-destination', tmp]);
    expect(pack.status, pack.stderr).toBe(0);
    const tarball = join(tmp, `${pkg.name}-${pkg.version}.tgz`);
    expect(existsSync(tarball)).toBe(true);
    const prefix = join(tmp, 'prefix');
    const install = run('npm', ['install', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', tarball], { cwd: tmp });
    expect(install.status, `${install.stdout}\n${install.stderr}`).toBe(0);
    const bin = join(prefix, 'bin', 'lispscope');
    const installed = join(prefix, 'lib', 'node_modules', pkg.name);
    expect(existsSync(join(installed, 'native', 'build', 'Release', 'lispscope_pcap.node'))).toBe(true);
    expect(run(bin, ['--version']).stdout).toBe(`lispscope ${pkg.version}\n`);
    const d = run(bin, ['sniff', '-D'], { env: { LISPSCOPE_PCAP: '' } });
    expect(d.status, d.stderr).toBe(0);
    expect(d.stderr).toMatch(/^lispscope: capturing through lispscope's libpcap binding \(/);
    // What --help and the README point to is in the package.
    expect(existsSync(join(prefix, 'share', 'man', 'man1', 'lispscope.1'))).toBe(true);
    for (const doc of ['usage.md', 'json.md', 'tui.md', 'lab.md', 'mobile-node.md', 'architecture.md', 'benchmarks.md']) {
      expect(existsSync(join(installed, 'docs', doc)), doc).toBe(true);
    }
    // It reads a capture with nothing of the clone around.
    const r = run(bin, ['read', '-n', '-c', '1', join(installed, 'pcaps', 'mn-handover.pcapng')], { cwd: tmp, env: { TZ: 'UTC', NO_COLOR: '1' } });
    expect(r.stdout).toMatch(/^10:00:00\.000000 IP 192\.0\.2\.10\.4342 > 203\.0\.113\.1\.4342: LISP Map-Register /);
  }, 600_000);

  it('without libpcap-dev the build says so in one line and the install goes on', () => {
    const r = run(process.execPath, [join(ROOT, 'native', 'build.mjs')], { env: { LISPSCOPE_PCAP_HEADER: join(tmp, 'no', 'pcap.h') } });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      'lispscope: the libpcap binding was not built (libpcap-dev is not installed); live capture will use the optional package cap if it is installed. To build it: apt-get install libpcap-dev, then npm run build:native',
    ]);
  });
});
