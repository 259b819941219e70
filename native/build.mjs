// Builds lispscope's libpcap binding (native/lispscope_pcap.c) with node-gyp: the package's
// `install` script (npm ci in a clone, npm i -g of the packed tarball) and `npm run build:native`.
// Live capture is optional: when libpcap's headers are missing or the build fails, this says so in
// one line and exits 0, and live capture falls back to `cap`. LISPSCOPE_PCAP_HEADER names the
// header to look for instead of the usual places.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const strict = process.argv.includes('--strict');

function skip(why) {
  const line = `lispscope: the libpcap binding was not built (${why}); live capture will use the optional package cap if it is installed. To build it: apt-get install libpcap-dev, then npm run build:native`;
  console.error(line);
  process.exit(strict ? 1 : 0);
}

if (process.platform !== 'linux' && process.platform !== 'darwin' && process.platform !== 'freebsd') skip(`${process.platform} is not supported`);
const headers = process.env.LISPSCOPE_PCAP_HEADER ? [process.env.LISPSCOPE_PCAP_HEADER] : ['/usr/include/pcap/pcap.h', '/usr/local/include/pcap/pcap.h', '/opt/homebrew/include/pcap/pcap.h'];
if (!headers.some(existsSync) && (process.platform === 'linux' || process.env.LISPSCOPE_PCAP_HEADER)) {
  skip('libpcap-dev is not installed');
}
// npm names its own node-gyp in npm_config_node_gyp; outside npm, the one npm ships with this
// Node, else one on PATH.
const bundled = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const gyp = process.env.npm_config_node_gyp || (existsSync(bundled) ? bundled : undefined);
const [cmd, args] = gyp ? [process.execPath, [gyp]] : ['node-gyp', []];
// Node's own headers, when installed beside it, spare node-gyp a download.
const prefix = dirname(dirname(process.execPath));
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'common.gypi'))) args.push(`--nodedir=${prefix}`);
const r = spawnSync(cmd, [...args, 'rebuild'], { cwd: here, encoding: 'utf8' });
if (r.error) skip(`node-gyp did not run: ${r.error.message}`);
if (r.status !== 0) {
  const lines = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => /error/i.test(l) && !/gyp (ERR|info)/.test(l));
  skip(`node-gyp failed${lines.length ? `: ${lines[0].trim()}` : ''}`);
}
if (!existsSync(join(here, 'build', 'Release', 'lispscope_pcap.node'))) skip('node-gyp produced no lispscope_pcap.node');
