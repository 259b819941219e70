// The packet filter's verdict on a plain LISP data packet (capture/plain-data.ts) from its frame
// bytes, for a filter that reads only the few members built here (`eid in …`, `ip.addr == …`,
// `rloc == …`): data packets are most of a capture, and decoding each one and building its JSON
// object for the filter cost ten times what reading its addresses in place does. The object built
// holds, on every path the filter reads, what the packet's `read --json` object holds there (the
// members plain data does not have, it lacks too); a property test holds it to the general path.

import { plainData, scanPlainData } from '../capture/plain-data.js';
import type { Frame } from '../capture/types.js';
import { formatIPv4, formatIPv6 } from '../dissect/addr.js';
import type { CompiledFilter } from '../flows/filter.js';

/** The members of a plain data packet's object (output/json-fast.ts writes them), at the top and in `inner`. */
const TOP = new Set(['frame', 'ts', 'len', 'src', 'dst', 'sport', 'dport', 'type', 'flags', 'nonce', 'map_version', 'iid', 'lsb', 'inner']);
const INNER = new Set(['src', 'dst', 'proto', 'len', 'sport', 'dport', 'tcp_flags', 'icmp_type', 'icmp_code', 'icmp_id', 'icmp_seq', 'payload_len']);

/** The members built here (`type` always, the others when the filter reads them). */
const BUILT_LIST = ['type', 'frame', 'len', 'src', 'dst', 'sport', 'dport', 'inner.src', 'inner.dst', 'inner.proto'] as const;
type Built = (typeof BUILT_LIST)[number];
const BUILT = new Set<string>(BUILT_LIST);

/** The member of a plain data packet a path reads (one built here), null when it has none there, undefined when it is one not built here. */
function memberOf(path: string): Built | null | undefined {
  const steps = path.split('.');
  if (!TOP.has(steps[0]!)) return null;
  const depth = steps[0] === 'inner' && steps.length > 1 ? 2 : 1;
  if (depth === 2 && !INNER.has(steps[1]!)) return null;
  // A whole `inner` or `map_version` is not built.
  const name = steps.slice(0, depth).join('.');
  if (!BUILT.has(name)) return undefined;
  // Below a number or a string there is nothing.
  return steps.length > depth ? null : (name as Built);
}

/** Where scanPlainData found things; reused for every frame. */
const scanned = plainData();

/**
 * The filter over plain data packets' frames: true or false, or undefined for a frame that is not
 * plain data (the caller decodes it). Undefined when the filter reads a member not built here.
 */
export function plainDataTest(filter: CompiledFilter): ((f: Frame) => boolean | undefined) | undefined {
  const read = new Set<Built>();
  for (const path of filter.paths) {
    const m = memberOf(path);
    if (m === undefined) return undefined;
    if (m !== null) read.add(m);
  }
  const [, frame, len, src, dst, sport, dport, innerSrc, innerDst, proto] = BUILT_LIST.map((m) => read.has(m));
  const inner = innerSrc || innerDst || proto;
  return (f) => {
    const d = scanned;
    if (!scanPlainData(f, d)) return undefined;
    const b = f.data;
    const o: Record<string, unknown> = { type: 'data' };
    if (frame) o.frame = f.index;
    if (len) o.len = f.len;
    if (src) o.src = formatIPv4(b, d.ip + 12);
    if (dst) o.dst = formatIPv4(b, d.ip + 16);
    if (sport) o.sport = d.sport;
    if (dport) o.dport = d.dport;
    if (inner) {
      const i = d.inner;
      const v4 = d.innerVersion === 4;
      const io: Record<string, unknown> = {};
      if (innerSrc) io.src = v4 ? formatIPv4(b, i + 12) : formatIPv6(b, i + 8);
      if (innerDst) io.dst = v4 ? formatIPv4(b, i + 16) : formatIPv6(b, i + 24);
      if (proto) io.proto = d.proto;
      o.inner = io;
    }
    return filter.test(o);
  };
}
