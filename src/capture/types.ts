// The unit every capture source (pcap, pcapng, live) hands to the decoder.

export interface Frame {
  /** 1-based index over the whole capture, every frame counted (as tshark numbers them). */
  index: number;
  /** Whole seconds since the epoch. */
  tsSec: number;
  /** Nanoseconds within the second, 0..999,999,999. */
  tsNsec: number;
  /** LINKTYPE_* value (low 16 bits of the file's field). */
  linkType: number;
  /** Original length on the wire. */
  len: number;
  /**
   * Captured bytes (caplen = data.length, may be < len when snaplen cut it). A view into the
   * reader's buffer: valid only until the sink callback returns; copy what you keep.
   */
  data: Uint8Array;
  /** pcapng interface id (0 for pcap). */
  interfaceId: number;
  /** Problems with the record itself (not its content), e.g. unknown interface id. */
  notes?: string[];
  /** Doubts about the record that do not make it wrong (a live capture's possible snaplen cut). */
  warnings?: string[];
}

export interface FrameSink {
  /** Return false to stop reading (e.g. `-c N` reached). */
  frame(f: Frame): boolean | void;
  /** A one-line warning about the file (truncation, skipped block); reading may go on. */
  warning(message: string): void;
}

/** Error about the capture file as a whole (not a capture, unreadable): one line, no stack. */
export class CaptureError extends Error {
  override name = 'CaptureError';
}

export function frameTime(f: Pick<Frame, 'tsSec' | 'tsNsec'>): number {
  return f.tsSec + f.tsNsec / 1e9;
}
