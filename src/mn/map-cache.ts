// The ITR's map-cache (RFC 9301 §6.3 of our notes, RFC 9300 §13): EID prefix → locator set or
// negative action, kept for the Record TTL, found by longest match. Bounded: the least recently
// used entry goes first when it is full.

import type { Locator, MappingRecord } from '../dissect/types.js';
import { longestMatch, prefixKey, recordPrefix, type Prefix } from './eid.js';
import { TTL_UNLIMITED } from '../dissect/registry.js';

export interface MapCacheEntry {
  prefix: Prefix;
  /** Text of the prefix, the entry's key. */
  key: string;
  locators: Locator[];
  /** ACT of a negative entry (no locators). */
  action: number;
  negative: boolean;
  authoritative: boolean;
  mapVersion: number;
  /** Record TTL in minutes, as received. */
  ttl: number;
  /** ms since the epoch; Infinity for TTL 0xFFFFFFFF. */
  expires: number;
  /** Who answered (address). */
  source: string;
  /** When the entry was (re)written, ms since the epoch. */
  updated: number;
  /** Last time traffic used it. */
  lastUsed: number;
  /** The inner source of the last packet that used it (the host to name in SMR-invoked requests). */
  lastSource?: string;
}

export interface MapCacheOptions {
  now?: () => number;
  maxEntries?: number;
}

export class MapCache {
  private readonly map = new Map<string, MapCacheEntry>();
  private readonly now: () => number;
  private readonly max: number;

  constructor(opts: MapCacheOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.max = opts.maxEntries ?? 10_000;
  }

  get size(): number {
    return this.map.size;
  }

  /** Longest match for `eid`; expired entries are removed on the way. */
  lookup(eid: Prefix): MapCacheEntry | undefined {
    this.expire();
    return longestMatch(this.map.values(), eid, (e) => e.prefix);
  }

  get(prefix: Prefix): MapCacheEntry | undefined {
    const e = this.map.get(prefixKey(prefix));
    if (e && e.expires <= this.now()) {
      this.map.delete(e.key);
      return undefined;
    }
    return e;
  }

  /** Caches a record from a Map-Reply; TTL 0 removes the prefix (RFC 9301 §5.4). */
  insert(r: MappingRecord, source: string): MapCacheEntry | undefined {
    const prefix = recordPrefix(r);
    const key = prefixKey(prefix);
    if (r.ttl === 0) {
      this.map.delete(key);
      return undefined;
    }
    const now = this.now();
    const old = this.map.get(key);
    const e: MapCacheEntry = {
      prefix,
      key,
      locators: r.locators,
      action: r.action,
      negative: r.locators.length === 0,
      authoritative: r.authoritative,
      mapVersion: r.mapVersion,
      ttl: r.ttl,
      expires: r.ttl === TTL_UNLIMITED ? Infinity : now + r.ttl * 60_000,
      source,
      updated: now,
      lastUsed: old?.lastUsed ?? 0,
    };
    if (old?.lastSource !== undefined) e.lastSource = old.lastSource;
    this.map.delete(key);
    this.map.set(key, e);
    if (this.map.size > this.max) this.evict();
    return e;
  }

  remove(prefix: Prefix): boolean {
    return this.map.delete(prefixKey(prefix));
  }

  /** Marks the entry used by traffic now (from host `source`). */
  touch(e: MapCacheEntry, source?: string): void {
    e.lastUsed = this.now();
    if (source !== undefined) e.lastSource = source;
  }

  entries(): MapCacheEntry[] {
    this.expire();
    return [...this.map.values()];
  }

  private expire(): void {
    const now = this.now();
    for (const [k, e] of this.map) if (e.expires <= now) this.map.delete(k);
  }

  private evict(): void {
    let victim: MapCacheEntry | undefined;
    for (const e of this.map.values()) if (!victim || e.lastUsed < victim.lastUsed) victim = e;
    if (victim) this.map.delete(victim.key);
  }
}

/**
 * The locator to encapsulate to (RFC 9300 §6.2 of the RFC, §3.3 of our notes): among reachable
 * locators with priority below 255, the lowest priority; within it, weight-proportional by `hash`
 * (a flow hash), evenly when all weights are 0. Skips the addresses in `down`.
 */
export function selectLocator(locators: Locator[], hash = 0, down: ReadonlySet<string> = new Set()): Locator | undefined {
  const usable = locators.filter(
    (l) => l.reachable && l.priority < 255 && (l.rloc.kind === 'ipv4' || l.rloc.kind === 'ipv6') && !down.has(l.rloc.addr),
  );
  if (usable.length === 0) return undefined;
  const best = Math.min(...usable.map((l) => l.priority));
  const group = usable.filter((l) => l.priority === best);
  const total = group.reduce((s, l) => s + l.weight, 0);
  if (total === 0) return group[hash % group.length];
  let x = hash % total;
  for (const l of group) {
    if (x < l.weight) return l;
    x -= l.weight;
  }
  return group[0];
}

/** The IP address text of a locator, when it is a plain IPv4/IPv6 RLOC. */
export function locatorAddress(l: Locator): string | undefined {
  return l.rloc.kind === 'ipv4' || l.rloc.kind === 'ipv6' ? l.rloc.addr : undefined;
}
