// A Map-Server's sites from a key file in the form `read --keys` takes (`<eid-prefix> <key>` per
// line, `#` comments): each EID prefix is a site whose xTRs sign with its key and may register it
// or any more-specific prefix. The `*` and Map-Server-address lines a reader may use name no EIDs:
// a Map-Server cannot accept registrations by them. A line for an RTR's address is the key the
// Map-Server shares with that RTR, not a site.

import { KeyRing } from '../dissect/keyring.js';
import { parsePrefix } from '../dissect/address.js';
import { prefixKey } from './eid.js';
import type { SiteConfig } from './map-server.js';

/** The sites of a key file (but the lines of the `rtrs` addresses); an error names the file and line of the first problem. */
export function parseSiteKeys(text: string, name: string, rtrs: string[] = []): SiteConfig[] | { error: string } {
  // The same reading as `read --keys` (one parser for the syntax), then the lines again for the sites.
  const ring = KeyRing.parse(text, name);
  if ('error' in ring) return ring;
  const sites: SiteConfig[] = [];
  const seen = new Set<string>();
  const rtrLines = new Set(rtrs.map((r) => parsePrefix(r)).flatMap((p) => (p ? [prefixKey(p)] : [])));
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/(^|\s)#.*$/, '').trim();
    const m = /^(\S+)\s+(.+)$/.exec(line);
    if (!m) continue;
    const [, who, key] = m;
    const prefix = who === '*' ? undefined : parsePrefix(who!);
    if (!prefix) return { error: `${name}:${i + 1}: a Map-Server's sites are EID prefixes: "${who}" names none` };
    const site = prefixKey(prefix);
    if (rtrLines.has(site)) continue;
    if (seen.has(site)) return { error: `${name}:${i + 1}: ${site} is given twice` };
    seen.add(site);
    sites.push({ name: site, key: key!, prefixes: [prefix] });
  }
  if (sites.length === 0) return { error: `${name}: no site (lines of "<eid-prefix> <key>")` };
  return sites;
}
