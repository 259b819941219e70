// The JSON `ts`: seconds since the epoch with microsecond precision, as the text both the object
// path (via Number, whose shortest form is this text) and the byte path write.

/** Whole microseconds, rounded from the nanoseconds, carried into the seconds. */
export function tsMicros(sec: number, nsec: number): { sec: number; usec: number } {
  let usec = Math.round(nsec / 1000);
  if (usec >= 1e6) {
    sec += 1;
    usec -= 1e6;
  }
  return { sec, usec };
}

/** `sec.uuuuuu` with trailing zeros dropped (a plain integer when there is no fraction). */
export function tsText(sec: number, nsec: number): string {
  const t = tsMicros(sec, nsec);
  if (t.usec === 0) return String(t.sec);
  return `${t.sec}.${String(t.usec).padStart(6, '0').replace(/0+$/, '')}`;
}

/**
 * The number for JSON.stringify. Below 2^33 s (year 2242) doubles are finer than a microsecond, so
 * the shortest form of this number is exactly tsText.
 */
export function tsNumber(sec: number, nsec: number): number {
  return Number(tsText(sec, nsec));
}

const p2 = (n: number) => String(n).padStart(2, '0');

/** The microseconds of a time, truncated, as six digits. */
export function micros(tsNsec: number): string {
  return String(Math.floor(tsNsec / 1000)).padStart(6, '0');
}

/** Time of day in the local zone with microseconds, as tcpdump prints it. */
export function timeOfDay(tsSec: number, tsNsec: number): string {
  const d = new Date(tsSec * 1000);
  return `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.${micros(tsNsec)}`;
}

/** `2024-05-01` in the local zone. */
function localDate(d: Date): string {
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}`;
}

/** The local zone's offset at that moment: `UTC`, `UTC+02:00`, `UTC-05:30`. */
export function zoneText(d: Date): string {
  const off = -d.getTimezoneOffset();
  if (off === 0) return 'UTC';
  const a = Math.abs(off);
  return `UTC${off < 0 ? '-' : '+'}${p2(Math.floor(a / 60))}:${p2(a % 60)}`;
}

/** The detail tree's arrival time: local date and time to the nanosecond, and the zone, as the line's clock. */
export function arrivalText(tsSec: number, tsNsec: number): string {
  const d = new Date(tsSec * 1000);
  return `${localDate(d)} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.${String(tsNsec).padStart(9, '0')} ${zoneText(d)}`;
}

/** `sec.nnnnnnnnn` since the epoch. */
export function epochText(tsSec: number, tsNsec: number): string {
  return `${tsSec}.${String(tsNsec).padStart(9, '0')}`;
}

/**
 * tcpdump's -t family: 0 time of day (default), 1 no time (-t), 2 seconds since the epoch (-tt),
 * 3 since the previous packet shown (-ttt), 4 date and time of day (-tttt), 5 since the first
 * packet shown (-ttttt). All with microseconds, local time.
 */
export type TimeFormat = 0 | 1 | 2 | 3 | 4 | 5;

/** `HH:MM:SS.uuuuuu` of a span in nanoseconds (hours go beyond 24), `-` before a negative one. */
function spanText(ns: bigint): string {
  const neg = ns < 0n;
  const us = (neg ? -ns : ns) / 1000n;
  const sec = Number(us / 1_000_000n);
  const frac = String(us % 1_000_000n).padStart(6, '0');
  return `${neg ? '-' : ''}${p2(Math.floor(sec / 3600))}:${p2(Math.floor(sec / 60) % 60)}:${p2(sec % 60)}.${frac}`;
}

/** The time column of packet lines in one of tcpdump's formats; deltas are kept from packet to packet. */
export class LineClock {
  private first: bigint | undefined;
  private prev: bigint | undefined;
  private headSec = NaN;
  private headText = '';

  constructor(readonly format: TimeFormat = 0) {}

  /** Formats 0, 2 and 4 print the time from the packet alone: `head` then `micros`. */
  get perPacket(): boolean {
    return this.format === 0 || this.format === 2 || this.format === 4;
  }

  /**
   * Formats 0, 2 and 4: the text before the microseconds, dot included. It changes once a second
   * at most, and local time is slow to compute: a million lines share a few thousand of these.
   */
  head(tsSec: number): string {
    if (tsSec !== this.headSec) {
      this.headSec = tsSec;
      if (this.format === 2) this.headText = `${tsSec}.`;
      else {
        const d = new Date(tsSec * 1000);
        const day = `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.`;
        this.headText = this.format === 4 ? `${localDate(d)} ${day}` : day;
      }
    }
    return this.headText;
  }

  /** The text for the next packet shown ('' for -t). */
  text(tsSec: number, tsNsec: number): string {
    if (this.perPacket) return `${this.head(tsSec)}${micros(tsNsec)}`;
    if (this.format === 1) return '';
    const ns = BigInt(tsSec) * 1_000_000_000n + BigInt(tsNsec);
    this.first ??= ns;
    const from = this.format === 3 ? (this.prev ?? ns) : this.first;
    this.prev = ns;
    return spanText(ns - from);
  }
}
