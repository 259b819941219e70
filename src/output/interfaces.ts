// What `sniff -D` says: the interfaces libpcap can capture on, and which binding captures.

import { listInterfaces, type Libpcap } from '../capture/live.js';

/** Which libpcap binding captures, and what that means for times and drops. */
export function bindingText(pcap: Libpcap): string {
  if (pcap.binding === 'native') return `capturing through lispscope's libpcap binding (${pcap.version ?? 'libpcap'}): kernel timestamps, original lengths, kernel drop counts`;
  return "capturing through the optional package cap: times taken when libpcap hands a packet over, no kernel drop counts (npm run build:native builds lispscope's own binding)";
}

/** One numbered line per interface, as tcpdump -D lists them. */
export function listText(pcap: Libpcap): string {
  const rows = listInterfaces(pcap).map((i, k) => {
    const what = [i.loopback ? 'loopback' : '', i.description ?? '', i.addresses.join(', ')].filter(Boolean).join('; ');
    return `${k + 1}. ${i.name}${what ? `  (${what})` : ''}`;
  });
  return `${rows.join('\n')}\n`;
}
