// sniff -p: the interface is not put into promiscuous mode. The kernel counts who asked for it
// (`ip -d link` shows "promiscuity N"); checked on a veth interface of a private network
// namespace, where no other capture can touch the count.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadNative } from '../../src/capture/pcap-native.js';
import { gate } from '../support/live.js';
import { ROOT } from './run.js';

function unavailable(): string | undefined {
  if (!loadNative().binding) return `lispscope's libpcap binding: ${loadNative().error}`;
  const r = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link add d0 type veth peer name d1 && ip link set d0 up && ip link set d1 up']);
  if (r.error) return `unshare: ${r.error.message}`;
  return r.status === 0 ? undefined : `cannot make a veth pair in a network namespace: ${r.stderr.toString().trim()}`;
}

const skip = gate('sniff -p (promiscuous mode)', unavailable());

/** The interface's promiscuity count once `sniff -i d0 ARGS` says it is listening (its handle is active). */
function promiscuity(args: string): number {
  const bin = `'${process.execPath}' '${join(ROOT, 'bin/lispscope')}'`;
  const script = `ip link add d0 type veth peer name d1 && ip link set d0 up && ip link set d1 up
err=$(mktemp)
${bin} sniff -i d0 ${args} --duration 20 >/dev/null 2>"$err" &
sniff=$!
for i in $(seq 400); do grep -q 'listening on' "$err" && break; sleep 0.05; done
ip -d link show d0; kill $sniff; wait; cat "$err"; rm -f "$err"`;
  const r = spawnSync('unshare', ['-n', 'sh', '-c', script], { encoding: 'utf8', timeout: 30_000 });
  // Counted while it listened, not before it started or after it failed.
  expect(r.stdout, r.stderr).toMatch(/^lispscope: listening on d0,/m);
  const m = /promiscuity (\d+)/.exec(r.stdout);
  expect(m, r.stdout + r.stderr).not.toBeNull();
  return Number(m![1]);
}

describe.skipIf(skip !== undefined)('sniff -p', () => {
  it('captures without promiscuous mode; without -p the interface is promiscuous', () => {
    expect(promiscuity('')).toBe(1);
    expect(promiscuity('-p')).toBe(0);
  });
});
