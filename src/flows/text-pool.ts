// One copy of each short text that exchanges keep: every decoded packet brings its own strings of
// the same few addresses, and each exchange, open for seconds of capture, outlives the young
// generation: its copies of the addresses (sender, hops, requester, responder, locators) would be
// moved to the old one with it, and kept there until it is reported.

/** Distinct texts kept at most: beyond it the pool starts over (a scan of fresh addresses). */
const MAX_TEXTS = 65_536;

export class TextPool {
  private readonly texts = new Map<string, string>();

  /** Distinct texts held. */
  get size(): number {
    return this.texts.size;
  }

  /** The pool's copy of `s` (which becomes it when there is none). */
  get(s: string): string {
    const t = this.texts.get(s);
    if (t !== undefined) return t;
    if (this.texts.size >= MAX_TEXTS) this.texts.clear();
    this.texts.set(s, s);
    return s;
  }

  /** The list with each text replaced by the pool's copy, in place. */
  list(list: string[]): void {
    for (let i = 0; i < list.length; i++) list[i] = this.get(list[i]!);
  }
}

/** The flow engine's pool (a process has one: its size is bounded). */
export const texts = new TextPool();
