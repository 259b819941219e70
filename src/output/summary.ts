// Counts over a run of packets: per message type, malformed, authentication outcomes.

import { isMalformed, type LispPacket } from '../capture/packets.js';
import { controlTypeName } from '../dissect/registry.js';

export class Summary {
  frames = 0;
  lisp = 0;
  malformed = 0;
  authOk = 0;
  authFailed = 0;
  readonly byType = new Map<string, number>();

  frame(): void {
    this.frames++;
  }

  packet(p: LispPacket): void {
    if (!p.kind) return;
    this.lisp++;
    const t = p.control ? controlTypeName(p.control) : p.kind === 'data' ? 'data' : p.kind === 'reliable' ? 'reliable-transport' : 'unknown';
    this.byType.set(t, (this.byType.get(t) ?? 0) + 1);
    if (isMalformed(p)) this.malformed++;
    if (p.auth) p.auth.ok ? this.authOk++ : this.authFailed++;
  }

  render(): string[] {
    const rows = [...this.byType].sort((a, b) => b[1] - a[1]).map(([t, n]) => `  ${t.padEnd(16)} ${n}`);
    return [
      `${this.frames} frames, ${this.lisp} LISP packets, ${this.malformed} malformed`,
      ...rows,
      `authentication: ${this.authOk} verified, ${this.authFailed} failed`,
    ];
  }
}
