// Authentication keys for verifying Map-Register / Map-Notify / Info messages. A key file holds one
// `<eid-prefix|ms-address|*> <key>` per line with `#` comments. The most specific entry wins: the
// longest EID prefix covering the message's EIDs, then the Map-Server's address, then `*`.

import { parsePrefix, prefixText, type Prefix } from './address.js';
import { prefixCovers, sameAddress } from './prefix.js';

interface KeyEntry {
  line: number;
  key: string;
  prefix?: Prefix;
  wildcard?: true;
}

export class KeyRing {
  private constructor(private readonly entries: KeyEntry[]) {}

  get size(): number {
    return this.entries.length;
  }

  /** Parses key-file text; returns an error naming the line for anything it cannot read. */
  static parse(text: string, name = 'keys'): KeyRing | { error: string } {
    const entries: KeyEntry[] = [];
    const lines = text.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.replace(/(^|\s)#.*$/, '').trim();
      if (!line) continue;
      const m = /^(\S+)\s+(.+)$/.exec(line);
      if (!m) return { error: `${name}:${i + 1}: expected "<eid-prefix|ms-address|*> <key>"` };
      const [, who, key] = m;
      if (who === '*') {
        entries.push({ line: i + 1, key: key!, wildcard: true });
        continue;
      }
      const prefix = parsePrefix(who!);
      if (!prefix) return { error: `${name}:${i + 1}: "${who}" is not an EID prefix, an address or *` };
      entries.push({ line: i + 1, key: key!, prefix });
    }
    return new KeyRing(entries);
  }

  /**
   * The site key of an active command's key file: the file's one key (a line that is not
   * `<who> <key>`), or the ring's entry for `eid` and Map-Server `ms`.
   */
  static siteKey(text: string, name: string, eid: Prefix | undefined, ms: string | undefined): { key: string } | { error: string } {
    const lines = text
      .split(/\r?\n/)
      .map((l) => l.replace(/(^|\s)#.*$/, '').trim())
      .filter(Boolean);
    if (lines.length === 0) return { error: `${name}: no key in the file` };
    const ring = KeyRing.parse(text, name);
    if ('error' in ring) return lines.length === 1 ? { key: lines[0]! } : ring;
    const msPrefix = ms ? parsePrefix(ms) : undefined;
    const key = ring.lookup(eid ? [eid] : [], msPrefix ? [msPrefix] : []);
    if (key === undefined) return { error: `${name}: no key for ${eid ? prefixText(eid.address, eid.maskLen) : 'this EID'}${ms ? ` or ${ms}` : ''}` };
    return { key };
  }

  /**
   * The key for a message about `eids` exchanged with Map-Server `peers` (source/destination
   * addresses of the packet), or undefined when no entry applies.
   */
  lookup(eids: Prefix[], peers: Prefix[]): string | undefined {
    let best: KeyEntry | undefined;
    for (const e of this.entries) {
      if (!e.prefix) continue;
      for (const eid of eids) {
        if (prefixCovers(e.prefix, eid) && (!best || e.prefix.maskLen > best.prefix!.maskLen)) best = e;
      }
    }
    if (best) return best.key;
    for (const e of this.entries) {
      if (e.prefix && peers.some((p) => sameAddress(e.prefix!.address, p.address))) return e.key;
    }
    return this.entries.find((e) => e.wildcard)?.key;
  }
}
