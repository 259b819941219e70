// Frames as they were read, written again to a capture file (`read -w`): timestamps to the
// nanosecond and original lengths kept. A pcapng file gives each link type met an interface of its
// own; a pcap file has one link type, so frames of another one are refused with a clear error.

import { closeSync, openSync } from 'node:fs';
import { linkTypeName } from './live.js';
import { CaptureError, type Frame } from './types.js';
import { PcapFileWriter, PcapngFileWriter } from './writer.js';

const SNAPLEN = 262144;

export class FrameFileWriter {
  /** Frames written. */
  packets = 0;
  private readonly fd: number;
  private readonly pcapng: boolean;
  private pcap: PcapFileWriter | undefined;
  private ng: PcapngFileWriter | undefined;
  private readonly interfaces = new Map<number, number>();
  private pcapLinkType: number | undefined;

  /** Creates (truncates) `path` at once, so that a path that cannot be written fails before any output. */
  constructor(readonly path: string) {
    this.pcapng = /\.pcapng$/i.test(path);
    try {
      this.fd = openSync(path, 'w');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new CaptureError(`${path}: cannot write${code ? ` (${code})` : ''}`);
    }
    if (this.pcapng) this.ng = new PcapngFileWriter(this.fd, { interfaces: [] });
  }

  write(f: Frame): void {
    const packet = { tsSec: f.tsSec, tsNsec: f.tsNsec, data: f.data, len: f.len };
    if (this.ng) {
      let id = this.interfaces.get(f.linkType);
      if (id === undefined) {
        id = this.ng.addInterface({ linkType: f.linkType, snaplen: SNAPLEN, tsresol: 9 });
        this.interfaces.set(f.linkType, id);
      }
      this.ng.write({ ...packet, interfaceId: id });
    } else {
      if (this.pcapLinkType === undefined) this.start(f.linkType);
      else if (f.linkType !== this.pcapLinkType) {
        throw new CaptureError(
          `${this.path}: frame ${f.index} is ${linkTypeName(f.linkType)}, the file already holds ${linkTypeName(this.pcapLinkType)}: a pcap file has one link type (write .pcapng)`,
        );
      }
      this.pcap!.write(packet);
    }
    this.packets++;
  }

  private start(linkType: number): void {
    this.pcapLinkType = linkType;
    this.pcap = new PcapFileWriter(this.fd, { linkType, snaplen: SNAPLEN, precision: 'ns' });
  }

  /** Finishes the file; an empty pcap file gets the header of `linkType`. */
  close(linkType = 1): void {
    if (!this.ng && !this.pcap) this.start(linkType);
    (this.ng ?? this.pcap)!.close();
    closeSync(this.fd);
  }
}
