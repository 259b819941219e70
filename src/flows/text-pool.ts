// One copy of each short text that exchanges keep: every decoded packet brings its own strings of
// the same few addresses, and each exchange, open for seconds of capture, outlives the young
// generation: its copies of the addresses (sender, hops, requester, responder, locators) would be
// moved to the old one with it, and kept there until it is reported.

import { formatIPv4 } from '../dissect/addr.js';

/** Distinct texts kept at most: beyond it the pool starts over (a scan of fresh addresses). */
const MAX_TEXTS = 65_536;

export class TextPool {
  private readonly texts = new Map<string, string>();
  /** The pool's texts of IPv4 addresses, by their 32 bits (as a signed integer: a small one to V8). */
  private readonly ipv4s = new Map<number, string>();

  /** Distinct texts held. */
  get size(): number {
    return this.texts.size;
  }

  /** The pool's copy of `s` (which becomes it when there is none). */
  get(s: string): string {
    const t = this.texts.get(s);
    if (t !== undefined) return t;
    if (this.texts.size >= MAX_TEXTS) this.clear();
    this.texts.set(s, s);
    return s;
  }

  /**
   * The pool's text of the IPv4 address at `b[at, at + 4)`: the text is made once, not for every
   * packet that carries the address (a control message's own addresses, its RLOCs).
   */
  ipv4(b: Uint8Array, at: number): string {
    const k = (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
    let t = this.ipv4s.get(k);
    if (t === undefined) {
      t = this.get(formatIPv4(b, at));
      this.ipv4s.set(k, t);
    }
    return t;
  }

  /** Starts over: no text held. */
  clear(): void {
    this.texts.clear();
    this.ipv4s.clear();
  }

  /** The list with each text replaced by the pool's copy, in place. */
  list(list: string[]): void {
    for (let i = 0; i < list.length; i++) list[i] = this.get(list[i]!);
  }
}

/** The flow engine's pool (a process has one: its size is bounded). */
export const texts = new TextPool();

/**
 * One copy of each short list of texts that exchanges keep and replace but never change in place
 * (where a request was sent, where its answer may go): most exchanges have the same few, and two
 * arrays each, open for seconds of capture, were copied into the old generation with them.
 */
export class ListPool {
  private readonly single = new Map<string, readonly string[]>();
  /** Each pooled list's extensions by one more text. */
  private readonly extended = new Map<readonly string[], Map<string, readonly string[]>>();
  private count = 0;

  /** The pool's list of `s` alone. */
  of(s: string): readonly string[] {
    const found = this.single.get(s);
    if (found) return found;
    const list = [s];
    this.made();
    this.single.set(s, list);
    return list;
  }

  /** The pool's list of `list` and then `s`; `list` itself when it holds `s`. */
  with(list: readonly string[], s: string): readonly string[] {
    if (list.includes(s)) return list;
    if (list.length === 0) return this.of(s);
    const found = this.extended.get(list)?.get(s);
    if (found) return found;
    const longer = list.concat(s);
    this.made();
    // After a restart `list` may be one the pool no longer holds: it is taken in again.
    const next = this.extended.get(list);
    if (next) next.set(s, longer);
    else this.extended.set(list, new Map([[s, longer]]));
    return longer;
  }

  /** Counts a new list: beyond MAX_TEXTS the pool starts over. */
  private made(): void {
    if (++this.count <= MAX_TEXTS) return;
    this.clear();
    this.count = 1;
  }

  /** Starts over: no list held. */
  clear(): void {
    this.single.clear();
    this.extended.clear();
    this.count = 0;
  }
}

/** The flow engine's list pool (bounded as `texts`). */
export const lists = new ListPool();

/**
 * Empties both pools. They only spare copies, so this is safe at any time; a caller done with its
 * engine lets their texts go with it (they would otherwise stay until the process ends).
 */
export function clearPools(): void {
  texts.clear();
  lists.clear();
}
