// What the active commands may send, and how fast: only to the addresses the user named (plus,
// for a running Mobile Node, the RLOCs its mapping system handed it), never to multicast or
// broadcast addresses unless allowed, and no more than `rate` datagrams a second.

import { networkInterfaces } from 'node:os';
import { parseIPv4, parseIPv6 } from '../dissect/addr.js';
import { ipAddress } from '../dissect/address.js';
import type { SendPolicy } from './socket.js';

export interface GuardOptions {
  /** Addresses the user named. */
  allowed: Iterable<string>;
  /** Further addresses that may be sent to (checked at send time). */
  alsoAllowed?: (address: string) => boolean;
  allowBroadcast?: boolean;
  /** Datagrams per second; 0 or undefined: no limit. */
  rate?: number;
  /** How many may leave back to back before the rate applies (default 1: evenly spaced). */
  burst?: number;
  /** Queued datagrams beyond this are dropped (default 10,000). */
  maxQueue?: number;
}

/** Canonical text of an IP address (so '127.0.0.01'-style spellings and IPv6 forms compare equal). */
function canonical(a: string): string {
  const ip = ipAddress(a);
  return ip && (ip.kind === 'ipv4' || ip.kind === 'ipv6') ? ip.addr : a;
}

/** Directed-broadcast addresses of the local IPv4 subnets. */
function localBroadcasts(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const i of list ?? []) {
      if (i.family !== 'IPv4' || i.internal) continue;
      const a = parseIPv4(i.address);
      const m = parseIPv4(i.netmask);
      if (!a || !m || i.netmask === '255.255.255.255') continue;
      out.add(Array.from(a, (b, k) => (b | (~m[k]! & 0xff)) & 0xff).join('.'));
    }
  }
  return out;
}

/** Why an address is not a unicast destination, or undefined when it is one. */
export function nonUnicastReason(address: string): string | undefined {
  const v4 = parseIPv4(address);
  if (v4) {
    if (v4[0]! >= 224 && v4[0]! <= 239) return 'a multicast address';
    if (v4.every((b) => b === 255)) return 'the broadcast address';
    if (v4.every((b) => b === 0)) return 'the unspecified address';
    if (localBroadcasts().has(address)) return 'a local subnet broadcast address';
    return undefined;
  }
  const v6 = parseIPv6(address);
  if (v6) {
    if (v6[0] === 0xff) return 'a multicast address';
    if (v6.every((b) => b === 0)) return 'the unspecified address';
    return undefined;
  }
  return 'not an IP address';
}

export class SendGuard implements SendPolicy {
  private readonly allowed: Set<string>;
  private tokens: number;
  private last = Date.now();
  private readonly queue: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  dropped = 0;

  constructor(private readonly opts: GuardOptions) {
    this.allowed = new Set([...opts.allowed].map(canonical));
    this.tokens = this.burst;
  }

  /** Adds an address the user named. */
  allow(address: string): void {
    this.allowed.add(canonical(address));
  }

  refusal(dst: string): string | undefined {
    const c = canonical(dst);
    if (!this.opts.allowBroadcast) {
      const why = nonUnicastReason(c);
      if (why) return `${dst} is ${why} (--allow-broadcast permits it)`;
    }
    if (this.allowed.has(c) || this.opts.alsoAllowed?.(c)) return undefined;
    return `${dst} was not named on the command line`;
  }

  schedule(send: () => void): void {
    const rate = this.opts.rate ?? 0;
    if (rate <= 0) {
      send();
      return;
    }
    if (this.queue.length === 0 && this.take(rate)) {
      send();
      return;
    }
    if (this.queue.length >= (this.opts.maxQueue ?? 10_000)) {
      this.dropped++;
      return;
    }
    this.queue.push(send);
    this.arm(rate);
  }

  /** Stops pacing: queued datagrams are dropped. */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.dropped += this.queue.length;
    this.queue.length = 0;
  }

  private get burst(): number {
    return Math.max(1, this.opts.burst ?? 1);
  }

  /** Datagrams waiting for the rate limit. */
  get pending(): number {
    return this.queue.length;
  }

  private take(rate: number): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * rate);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private arm(rate: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      while (this.queue.length && this.take(rate)) this.queue.shift()!();
      if (this.queue.length) this.arm(rate);
    }, Math.max(1, Math.ceil(1000 / rate)));
  }
}

/**
 * Token buckets per key (a source address): `rate` a second after a burst of `burst`. A server
 * uses it to stop one sender from making it work (or answer) without bound. Keys beyond `maxKeys`
 * push out the least recently seen.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; last: number }>();
  /** Refused so far. */
  refused = 0;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly maxKeys = 10_000,
  ) {}

  /** Whether `key` may go now (taking a token); false when its bucket is empty. */
  allow(key: string, now = Date.now()): boolean {
    if (this.rate <= 0) return true;
    let b = this.buckets.get(key);
    if (b) this.buckets.delete(key);
    else b = { tokens: this.burst, last: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.last) / 1000) * this.rate);
    b.last = now;
    this.buckets.set(key, b);
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    if (b.tokens < 1) {
      this.refused++;
      return false;
    }
    b.tokens -= 1;
    return true;
  }
}
