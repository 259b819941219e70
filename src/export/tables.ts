// The exported tables. Every row is staged as one JSON object (the JSON contract's, or a mapping's
// timeline entry, handover or handover peer with its EID beside it); the columns below are read
// from it, and `json` keeps all of it.

import type { Column, Table } from './columns.js';

/** Columns every table starts with: where the row came from. */
const ORIGIN: Column[] = [
  { name: 'vantage', type: 'text', constant: true, doc: 'the capture point (`--vantage`; default the file name or the interface)' },
  { name: 'file', type: 'text', constant: true, doc: 'the capture file as given, or the interface of a live capture' },
  { name: 'seq', type: 'int', sql: 'seq', doc: "the row's position in its input (1-based): `order by seq` gives the order of `read`/`flows`/`mappings`" },
];

const JSON_COLUMN = (what: string): Column => ({ name: 'json', type: 'json', sql: 'line', plain: 'line', doc: `${what}, as NDJSON output prints it: every field, present and future` });

const LIST = (path: string, field: string) => `coalesce(list_transform(${path}, x -> x.${field}), [])`;

export const PACKETS: Table = {
  name: 'packets',
  time: 'ts',
  // Data packets (most rows) carry no records or locator lists.
  detail: "o.type IS DISTINCT FROM 'data'",
  doc: 'One row per LISP packet (as `lispscope read --json` prints them; `stats` counts the same packets).',
  example: "select type, count(*) as packets, count(*) filter (where len(malformed) > 0) as malformed from packets group by type order by packets desc",
  columns: [
    ...ORIGIN,
    { name: 'frame', type: 'int', doc: 'frame number in the capture (1-based, every frame counted, as tshark)' },
    { name: 'ts', type: 'double', plain: 'us / 1000000', doc: 'capture time, seconds since the epoch (microsecond precision)' },
    { name: 'len', type: 'int', doc: 'length on the wire' },
    { name: 'src', type: 'text', doc: 'outer source address' },
    { name: 'dst', type: 'text', doc: 'outer destination address' },
    { name: 'sport', type: 'int', doc: 'UDP (or TCP) source port' },
    { name: 'dport', type: 'int', doc: 'UDP (or TCP) destination port' },
    { name: 'transport', type: 'text', doc: '`tcp` for the Map-Server reliable transport, else null (UDP)' },
    { name: 'type', type: 'text', plain: "'data'", doc: 'message type: `map-request`, `map-reply`, `map-register`, ..., `data`, `icmp-error`, `unknown`' },
    {
      name: 'nonce',
      type: 'text',
      sql: 'coalesce(o.nonce, o.inner.nonce)',
      schema: { nonce: 'VARCHAR', inner: { nonce: 'VARCHAR' } },
      from: ['nonce', 'inner.nonce'],
      doc: "nonce in hex (16 digits for control, 6 for data); an ECM's is its inner message's",
    },
    { name: 'inner_type', type: 'text', sql: 'o.inner.type', schema: { inner: { type: 'VARCHAR' } }, from: ['inner.type'], doc: 'ECM: the encapsulated message type' },
    {
      name: 'eids',
      type: 'text[]',
      sql:
        `CASE WHEN o.type = 'data' THEN if(o.inner.dst IS NULL, [], [o.inner.src, o.inner.dst]) ELSE ` +
        `flatten([${LIST('d.records', 'eid')}, coalesce(d.eids, []), if(d.eid IS NULL, [], [d.eid]),` +
        ` coalesce(d.inner.eids, []), ${LIST('d.inner.records', 'eid')}]) END`,
      schema: { inner: { src: 'VARCHAR', dst: 'VARCHAR' } },
      plain: 'if(inner_dst IS NULL, [], [inner_src, inner_dst])',
      from: ['records[].eid', 'eids[]', 'eid', 'inner.eids[]', 'inner.records[].eid'],
      fromData: ['inner.src', 'inner.dst'],
      detailSchema: {
        records: [{ eid: 'VARCHAR', locators: [{ rloc: 'VARCHAR' }] }],
        eids: ['VARCHAR'],
        eid: 'VARCHAR',
        inner: { eids: ['VARCHAR'], records: [{ eid: 'VARCHAR' }], itr_rlocs: ['VARCHAR'] },
      },
      doc: 'EID prefixes the message is about: EID-records, requested EIDs, the Info-Request EID, those of an ECM\'s inner message; for data the inner source and destination',
    },
    {
      name: 'rlocs',
      type: 'text[]',
      sql:
        // An AFI-0 ITR-RLOC (a pub/sub withdrawal) is JSON null: no locator, and no NULL in a list ClickHouse must parse.
        `CASE WHEN o.type = 'data' THEN [] ELSE list_filter(flatten([flatten(coalesce(list_transform(d.records, r -> ${LIST('r.locators', 'rloc')}), [])), ` +
        `coalesce(d.itr_rlocs, []), coalesce(d.inner.itr_rlocs, [])]), x -> x IS NOT NULL) END`,
      detailSchema: { itr_rlocs: ['VARCHAR'] },
      plain: '[]',
      from: ['records[].locators[].rloc', 'itr_rlocs[]', 'inner.itr_rlocs[]'],
      fromData: [],
      doc: "locators carried: the records' RLOCs, then ITR-RLOCs (of an ECM's inner Map-Request too)",
    },
    { name: 'smr', type: 'bool', doc: 'Map-Request: SMR bit' },
    { name: 'probe', type: 'bool', doc: 'Map-Request / Map-Reply: RLOC-probe bit' },
    { name: 'flags', type: 'text', doc: 'data: the set flags among `NLEVI`' },
    { name: 'iid', type: 'int', doc: 'data: Instance ID' },
    { name: 'key_id', type: 'int', doc: 'authenticated messages: Key ID' },
    { name: 'auth_ok', type: 'bool', doc: 'authentication verified (only with `--keys`)' },
    { name: 'auth_error', type: 'text', doc: 'why authentication failed' },
    { name: 'malformed', type: 'text[]', sql: "coalesce(o.malformed, [])", plain: '[]', schema: { malformed: ['VARCHAR'] }, from: ['malformed[]'], doc: 'error-level notes (empty when the packet decoded cleanly)' },
    JSON_COLUMN('the packet'),
  ],
};

export const EXCHANGES: Table = {
  name: 'exchanges',
  time: 'start',
  doc: 'One row per exchange (request and answer), as `lispscope flows --json` prints them, in the same order (`seq`).',
  example:
    "select json->>'$.via' as map_resolver, count(*) as requests, round(avg(rtt_ms), 1) as avg_rtt_ms, count(*) filter (where outcome = 'unanswered') as unanswered " +
    "from exchanges where kind = 'resolution' group by map_resolver order by requests desc",
  columns: [
    ...ORIGIN,
    { name: 'kind', type: 'text', doc: '`registration`, `resolution`, `smr`, `rloc-probe`, `nat-info`, `referral`, ...' },
    { name: 'eid', type: 'text', doc: 'the EID prefix the exchange is about' },
    { name: 'nonce', type: 'text', doc: 'the nonce that ties it together' },
    { name: 'start', type: 'double', doc: 'time of the first packet' },
    { name: 'requester', type: 'text', doc: 'who asked' },
    { name: 'responder', type: 'text', doc: 'who answered' },
    { name: 'via', type: 'text', doc: 'the Map-Resolver or RTR the request went through' },
    { name: 'rtt_ms', type: 'double', doc: 'from the transmission the answer echoes to the answer; null when unanswered' },
    { name: 'time_to_answer_ms', type: 'double', doc: 'from the first transmission to the answer; null when unanswered' },
    { name: 'retransmissions', type: 'int', doc: 'repeated requests' },
    { name: 'outcome', type: 'text', doc: '`answered`, `negative`, `unanswered`, `auth-failed`, `rejected`, ... (see the JSON contract)' },
    { name: 'rlocs', type: 'text[]', sql: 'coalesce(o.rlocs, [])', schema: { rlocs: ['VARCHAR'] }, doc: 'locators of the answer or registration' },
    { name: 'frames', type: 'int[]', sql: 'coalesce(o.frames, [])', schema: { frames: ['BIGINT'] }, doc: 'frame numbers of every packet of the exchange' },
    { name: 'site', type: 'text', doc: 'registration: who registered (xTR-ID or address)' },
    JSON_COLUMN('the exchange'),
  ],
};

export const MAPPINGS: Table = {
  name: 'mappings',
  time: 'ts',
  doc: "One row per entry of an EID's mapping timeline: each time its RLOC set was announced or learned (`mappings --json`'s `timeline`).",
  example: "select eid, count(distinct rlocs) as rloc_sets, min(to_timestamp(ts)) as first_seen from mappings group by eid order by rloc_sets desc limit 20",
  columns: [
    ...ORIGIN,
    { name: 'eid', type: 'text', doc: 'EID prefix' },
    { name: 'ts', type: 'double', doc: 'when' },
    { name: 'frame', type: 'int', doc: 'frame of the message' },
    { name: 'source', type: 'text', doc: 'the message type that announced or taught the set (`map-register`, `map-notify`, `map-reply`)' },
    { name: 'announced_by', type: 'text', key: 'by', doc: 'who sent it (the contract\'s `by`)' },
    { name: 'rlocs', type: 'text[]', sql: 'coalesce(o.rlocs, [])', schema: { rlocs: ['VARCHAR'] }, doc: 'the sorted locator addresses' },
    JSON_COLUMN("the timeline entry, with the EID"),
  ],
};

export const HANDOVERS: Table = {
  name: 'handovers',
  time: 'ts',
  doc: "One row per handover: the registered RLOC set of an EID changed (`mappings --json`'s `handovers`).",
  example: 'select eid, to_timestamp(ts) as at, from_rlocs, to_rlocs, peers, slowest_peer_ms from handovers order by slowest_peer_ms desc nulls last limit 20',
  columns: [
    ...ORIGIN,
    { name: 'eid', type: 'text', doc: 'EID prefix' },
    { name: 'ts', type: 'double', doc: 'time of the first Map-Register with the new set' },
    { name: 'frame', type: 'int', doc: 'its frame' },
    { name: 'from_rlocs', type: 'text[]', sql: 'coalesce(o."from", [])', schema: { from: ['VARCHAR'] }, doc: 'the RLOC set before (the contract\'s `from`)' },
    { name: 'to_rlocs', type: 'text[]', sql: 'coalesce(o."to", [])', schema: { to: ['VARCHAR'] }, doc: 'the RLOC set after (`to`)' },
    { name: 'peers', type: 'int', sql: 'len(coalesce(o.peers, []))', schema: { peers: [{ latency_ms: 'DOUBLE' }] }, doc: 'xTRs that were sending to the EID' },
    { name: 'slowest_peer_ms', type: 'double', sql: 'list_max(list_transform(o.peers, p -> p.latency_ms))', doc: 'the largest peer latency (null when no peer moved)' },
    JSON_COLUMN('the handover with its peers, and the EID'),
  ],
};

export const HANDOVER_PEERS: Table = {
  name: 'handover_peers',
  time: 'handover_ts',
  doc: 'One row per peer of a handover: how long that xTR took to send to the new RLOCs.',
  example: 'select peer, count(*) as handovers, median(latency_ms) as median_ms, max(latency_ms) as max_ms, sum(stale_data_packets) as stale from handover_peers group by peer order by max_ms desc nulls last',
  columns: [
    ...ORIGIN,
    { name: 'eid', type: 'text', doc: 'EID prefix that moved' },
    { name: 'handover_ts', type: 'double', doc: 'the handover\'s time (joins `handovers.ts`)' },
    { name: 'handover_frame', type: 'int', doc: 'the handover\'s frame' },
    { name: 'peer', type: 'text', doc: 'the xTR' },
    { name: 'smr_ts', type: 'double', doc: 'when it was sent an SMR' },
    { name: 'updated_ts', type: 'double', doc: 'when it learned the new mapping' },
    { name: 'first_data_ts', type: 'double', doc: 'its first data packet to a new RLOC' },
    { name: 'latency_ms', type: 'double', doc: 'from the handover to that first data packet; null if never' },
    { name: 'stale_data_packets', type: 'int', doc: 'data packets it sent to an old RLOC after the handover' },
    JSON_COLUMN('the peer, with the EID and the handover\'s time and frame'),
  ],
};

export const CAPTURES: Table = {
  name: 'captures',
  time: 'exported',
  doc: 'One row per exported input (file, or live capture when it stops): what it held.',
  example: 'select vantage, file, lisp_packets, exchanges, handovers, malformed_frames, drops, to_timestamp(first_ts) as first, to_timestamp(last_ts) as last from captures order by vantage, first',
  columns: [
    ...ORIGIN,
    { name: 'exported', type: 'double', doc: 'when it was exported (seconds since the epoch)' },
    { name: 'format', type: 'text', doc: '`pcap`, `pcapng` or `live`' },
    { name: 'link_types', type: 'int[]', sql: 'coalesce(o.link_types, [])', schema: { link_types: ['BIGINT'] }, doc: 'LINKTYPE values seen' },
    { name: 'frames', type: 'int', doc: 'frames read (LISP or not)' },
    { name: 'lisp_packets', type: 'int', doc: 'LISP packets (the rows of `packets`; `stats` counts the same)' },
    { name: 'control_packets', type: 'int', doc: 'LISP control packets' },
    { name: 'data_packets', type: 'int', doc: 'LISP data packets' },
    { name: 'malformed_frames', type: 'int', doc: 'frames with error-level notes' },
    { name: 'exchanges', type: 'int', doc: 'rows in `exchanges`' },
    { name: 'handovers', type: 'int', doc: 'rows in `handovers`' },
    { name: 'first_ts', type: 'double', doc: 'time of the first frame' },
    { name: 'last_ts', type: 'double', doc: 'time of the last frame' },
    { name: 'drops', type: 'int', doc: "packets lost while capturing: live, the kernel's, the interface's and lispscope's queue's; pcapng, what its Interface Statistics Blocks say; null for pcap" },
    { name: 'export_drops', type: 'int', doc: 'live capture: rows dropped because the database could not take them' },
    JSON_COLUMN('the same counts'),
  ],
};

export const TABLES: Table[] = [PACKETS, EXCHANGES, MAPPINGS, HANDOVERS, HANDOVER_PEERS, CAPTURES];
export type TableName = 'packets' | 'exchanges' | 'mappings' | 'handovers' | 'handover_peers' | 'captures';
