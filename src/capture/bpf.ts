// Capture filters (BPF, tcpdump's expression language) on frames read from files: libpcap compiles
// the expression for the frame's link type (pcap_compile on a dead handle) and runs it on each
// frame (pcap_offline_filter), through lispscope's own binding. A capture can hold several link
// types (pcapng interfaces), so there is one program per link type, compiled when first needed.

import { LINKTYPE_EN10MB } from '../dissect/link.js';
import { CaptureError, type Frame } from './types.js';
import { loadNative, type NativeLibpcap } from './pcap-native.js';
import { linkTypeName } from './live.js';

export class OfflineFilter {
  private readonly programs = new Map<number, object>();

  private constructor(
    readonly expression: string,
    private readonly pcap: NativeLibpcap,
  ) {}

  /** The filter, or a one-line CaptureError when lispscope's libpcap binding is not there. */
  static open(expression: string): OfflineFilter {
    const n = loadNative();
    if (!n.binding) {
      throw new CaptureError(
        `capture filter "${expression}": filtering files with BPF needs lispscope's libpcap binding, and ${n.error ?? "it was not built"} (apt-get install libpcap-dev, then npm run build:native; -Y filters without it)`,
      );
    }
    return new OfflineFilter(expression, n.binding);
  }

  /**
   * Compiles for each of `linkTypes` now, to report a bad expression before any output (for
   * Ethernet when none is known yet, as for stdin).
   */
  checkFor(linkTypes: ReadonlySet<number>): void {
    for (const lt of linkTypes.size ? linkTypes : [LINKTYPE_EN10MB]) this.program(lt);
  }

  matches(f: Frame): boolean {
    return this.pcap.filterMatches(this.program(f.linkType), f.data, f.len);
  }

  private program(linkType: number): object {
    let p = this.programs.get(linkType);
    if (!p) {
      try {
        p = this.pcap.compileFilter(linkType, this.expression);
      } catch (e) {
        const msg = ((e as Error).message ?? String(e)).replace(/^can't parse filter expression: /, '');
        throw new CaptureError(`bad capture filter "${this.expression}" for link type ${linkTypeName(linkType)}: ${msg}`);
      }
      this.programs.set(linkType, p);
    }
    return p;
  }
}
