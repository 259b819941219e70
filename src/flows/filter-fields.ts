// The fields a display filter (`-Y`, the terminal UI's `/`) may name, per kind of object: packets
// (`read`, `sniff`), exchanges (`flows`) and mappings (`mappings`). One declaration per field: its
// type, what it means and an example; the filter compiler, `-Y help` and docs/filters.md all come
// from here. A field names a path in the object's JSON (`records.locators.priority`); a few gather
// several paths (`eid`, `rloc`, `nonce`, `ip.addr`, `udp.port`), as Wireshark's `ip.addr` does.

export type FieldType = 'number' | 'string' | 'boolean' | 'address' | 'prefix' | 'nonce' | 'enum' | 'object';

export interface FieldDef {
  type: FieldType;
  help: string;
  example?: string;
  /** enum: the values it takes (a bare value, e.g. `-Y map-register`, means `field == value`). */
  values?: readonly string[];
  /** JSON paths whose values it gathers (default: its own name as a path). */
  gather?: readonly string[];
  /** object: the fields inside (as `name.inner`). */
  fields?: Schema;
}

export type Schema = Readonly<Record<string, FieldDef>>;
export type FilterDomain = 'packet' | 'exchange' | 'mapping';

const f = (type: FieldType, help: string, example?: string, more: Partial<FieldDef> = {}): FieldDef => ({ type, help, ...(example ? { example } : {}), ...more });

export const PACKET_TYPES = [
  'map-request',
  'map-reply',
  'map-register',
  'map-notify',
  'map-notify-ack',
  'map-referral',
  'info-request',
  'info-reply',
  'ecm',
  'data',
  'icmp-error',
  'unknown',
] as const;

export const EXCHANGE_KINDS = ['registration', 'resolution', 'smr', 'rloc-probe', 'nat-info', 'referral', 'subscription', 'publication'] as const;
export const OUTCOMES = ['answered', 'negative', 'unanswered', 'auth-failed', 'unacknowledged', 'rejected', 'forwarded', 'unreachable', 'reply-only'] as const;
const ACTIONS = ['no-action', 'native-forward', 'send-map-request', 'drop', 'drop-policy-denied', 'drop-auth-failure'] as const;
const LEVELS = ['error', 'warning', 'note'] as const;

const LOCATOR: Schema = {
  rloc: f('address', 'locator address', 'rloc == 10.10.5.2'),
  priority: f('number', 'unicast priority (255: not for unicast)', 'priority < 2'),
  weight: f('number', 'unicast weight', 'weight == 100'),
  mpriority: f('number', 'multicast priority', 'mpriority == 255'),
  mweight: f('number', 'multicast weight', 'mweight == 0'),
  local: f('boolean', 'L: the locator is the sender itself', 'local'),
  probed: f('boolean', 'p: the reply answers an RLOC-probe for this locator', 'probed'),
  reachable: f('boolean', 'R: reachable', '!reachable'),
};

const RECORD: Schema = {
  eid: f('prefix', 'EID-prefix of the record', 'eid in 3.0.0.0/8'),
  ttl: f('number', 'record TTL in minutes', 'ttl < 15'),
  action: f('enum', 'action of a negative record', 'action == native-forward', { values: ACTIONS }),
  authoritative: f('boolean', 'A: from an authoritative source', 'authoritative'),
  map_version: f('number', 'map-version number', 'map_version > 0'),
  locators: f('object', 'the record’s locators', undefined, { fields: LOCATOR }),
};

const NAT: Schema = {
  global_etr_rloc: f('address', 'the requester’s address as the Map-Server saw it', 'global_etr_rloc == 10.10.9.1'),
  global_etr_port: f('number', 'its port as the Map-Server saw it', 'global_etr_port != 4342'),
  ms_udp_port: f('number', 'Map-Server UDP port', 'ms_udp_port == 4342'),
  etr_udp_port: f('number', 'the requester’s translated port', 'etr_udp_port == 22667'),
  ms_rloc: f('address', 'Map-Server address', 'ms_rloc == 10.10.1.2'),
  private_etr_rloc: f('address', 'the requester’s own address', 'private_etr_rloc == 10.10.4.2'),
  rtr_rlocs: f('address', 'RTRs offered', 'rtr_rlocs == 10.10.6.2'),
};

const NOTE: Schema = {
  level: f('enum', 'expert level: error, warning or note', 'level == warning', { values: LEVELS }),
  text: f('string', 'what the note says', 'text contains "xTR-ID"'),
  offset: f('number', 'byte offset in the LISP message', 'offset > 100'),
};

/** Fields of any LISP control message (also inside an ECM or a data packet). */
const MESSAGE: Schema = {
  type: f('enum', 'message type', 'type == map-register', { values: PACKET_TYPES }),
  nonce: f('nonce', 'nonce (hex, with or without 0x)', 'nonce == 0xe95c0f6be60a5469'),
  records: f('object', 'EID-records', undefined, { fields: RECORD }),
  probe: f('boolean', 'P: RLOC-probe (Map-Request, Map-Reply)', 'probe'),
  smr: f('boolean', 'S: Solicit-Map-Request', 'smr'),
  smr_invoked: f('boolean', 's: SMR-invoked Map-Request', 'smr_invoked'),
  authoritative: f('boolean', 'A: authoritative Map-Request', 'authoritative'),
  map_data_present: f('boolean', 'M: the Map-Request carries the sender’s mapping', 'map_data_present'),
  pitr: f('boolean', 'p: sent by a PITR', 'pitr'),
  source_eid: f('prefix', 'Map-Request source EID', 'source_eid == 4.0.0.4'),
  itr_rlocs: f('address', 'Map-Request ITR-RLOCs', 'itr_rlocs == 10.10.2.2'),
  eids: f('prefix', 'EID-prefixes a Map-Request asks for', 'eids in 3.0.0.0/8'),
  echo_nonce: f('boolean', 'E: echo-nonce capable (Map-Reply)', 'echo_nonce'),
  security: f('boolean', 'S: LISP-SEC', 'security'),
  proxy_reply: f('boolean', 'P: proxy Map-Reply wanted (Map-Register)', 'proxy_reply'),
  want_map_notify: f('boolean', 'M: Map-Notify wanted (Map-Register)', '!want_map_notify'),
  merge: f('boolean', 'a: merge (Map-Register)', 'merge'),
  xtr_id_present: f('boolean', 'I: xTR-ID and site-ID follow', 'xtr_id_present'),
  key_id: f('number', 'Key ID', 'key_id == 1'),
  auth_len: f('number', 'authentication data length', 'auth_len == 20'),
  auth: f('string', 'authentication data (hex)', 'auth contains "ae5e2b"'),
  auth_ok: f('boolean', 'authentication verified with --keys', '!auth_ok'),
  auth_error: f('string', 'why authentication failed', 'auth_error contains key'),
  xtr_id: f('string', 'xTR-ID (hex)', 'xtr_id matches "^0+1$"'),
  site_id: f('string', 'site-ID (hex)', 'site_id == 0000000000000001'),
  reply: f('boolean', 'R: Info-Reply rather than Info-Request', 'reply'),
  ttl: f('number', 'Info TTL in minutes', 'ttl > 0'),
  eid: f('prefix', 'Info EID-prefix', 'eid == 3.0.0.3/32'),
  nat: f('object', 'NAT-traversal details of an Info-Reply', undefined, { fields: NAT }),
  ddt: f('boolean', 'D: DDT-originated ECM', 'ddt'),
  rtr: f('boolean', 'R: ECM for an RTR', 'rtr'),
  to_etr: f('boolean', 'E: ECM to an ETR', 'to_etr'),
  to_ms: f('boolean', 'M: ECM to a Map-Server', 'to_ms'),
};

/** What a data packet's `inner` (the encapsulated packet) and an ECM's `inner` (IP/UDP + message) hold. */
const INNER: Schema = {
  ...MESSAGE,
  src: f('address', 'inner source address', 'src == 3.0.0.3'),
  dst: f('address', 'inner destination address', 'dst == 4.0.0.4'),
  sport: f('number', 'inner source port', 'sport == 4342'),
  dport: f('number', 'inner destination port', 'dport == 4342'),
  proto: f('number', 'inner IP protocol', 'proto == 1'),
  len: f('number', 'inner packet length', 'len > 1400'),
  icmp_type: f('number', 'inner ICMP type', 'icmp_type == 8'),
  icmp_code: f('number', 'inner ICMP code', 'icmp_code == 0'),
  lisp: f('object', 'a LISP message carried inside LISP data (an RTR relaying a Map-Notify)', undefined, { fields: MESSAGE }),
};

const ICMP: Schema = {
  type: f('number', 'ICMP type', 'type == 11'),
  code: f('number', 'ICMP code', 'code == 3'),
  name: f('string', 'ICMP error name', 'name contains unreachable'),
  mtu: f('number', 'next-hop MTU (fragmentation needed, packet too big)', 'mtu < 1500'),
};

const EID_PATHS = ['eid', 'eids', 'messages.eid', 'messages.map_register.records.eid', 'records.eid', 'map_reply.eid', 'source_eid', 'inner.eid', 'inner.eids', 'inner.records.eid', 'inner.source_eid', 'inner.lisp.records.eid', 'inner.lisp.eids', 'quoted.eids', 'quoted.records.eid', 'inner.src', 'inner.dst'];
const RLOC_PATHS = [
  'src',
  'dst',
  'itr_rlocs',
  'records.locators.rloc',
  'map_reply.locators.rloc',
  'inner.itr_rlocs',
  'inner.records.locators.rloc',
  'inner.lisp.records.locators.rloc',
  'nat.global_etr_rloc',
  'nat.rtr_rlocs',
  'quoted.src',
  'quoted.dst',
];

const PACKET_FIELDS: Schema = {
  frame: f('number', 'frame number (1-based, as tshark counts)', 'frame == 464'),
  ts: f('number', 'capture time, seconds since the epoch', 'ts > 1795640481.2'),
  len: f('number', 'frame length on the wire', 'len > 1500'),
  src: f('address', 'outer source address', 'src == 10.10.4.2'),
  dst: f('address', 'outer destination address', 'dst == 10.10.1.2'),
  sport: f('number', 'outer source port', 'sport == 4342'),
  dport: f('number', 'outer destination port', 'dport != 4341'),
  'ip.src': f('address', 'outer source address (as Wireshark names it)', 'ip.src == 10.10.4.2', { gather: ['src'] }),
  'ip.dst': f('address', 'outer destination address', 'ip.dst == 10.10.1.2', { gather: ['dst'] }),
  'ip.addr': f('address', 'outer source or destination address', 'ip.addr == 10.10.2.2', { gather: ['src', 'dst'] }),
  'udp.srcport': f('number', 'outer UDP source port', 'udp.srcport == 4342', { gather: ['sport'] }),
  'udp.dstport': f('number', 'outer UDP destination port', 'udp.dstport == 4341', { gather: ['dport'] }),
  'udp.port': f('number', 'outer UDP source or destination port', 'udp.port == 4342', { gather: ['sport', 'dport'] }),
  ...MESSAGE,
  nonce: f('nonce', 'nonce of the message, of an ECM’s inner message, or of a message carried in data', 'nonce == 0xe95c0f6be60a5469', {
    gather: ['nonce', 'inner.nonce', 'inner.lisp.nonce', 'quoted.nonce', 'quoted.inner.nonce'],
  }),
  eid: f('prefix', 'any EID the packet carries (records, requested EIDs, source EID, a data packet’s inner addresses)', 'eid in 3.0.0.0/8', { gather: EID_PATHS }),
  rloc: f('address', 'any locator or outer address the packet carries', 'rloc == 10.10.5.2', { gather: RLOC_PATHS }),
  smr: f('boolean', 'S: Solicit-Map-Request', 'smr', { gather: ['smr', 'inner.smr'] }),
  smr_invoked: f('boolean', 's: SMR-invoked Map-Request (also inside an ECM)', 'smr_invoked', { gather: ['smr_invoked', 'inner.smr_invoked'] }),
  probe: f('boolean', 'P: RLOC-probe (also inside an ECM)', 'probe', { gather: ['probe', 'inner.probe'] }),
  auth_ok: f('boolean', 'authentication verified with --keys (also an inner message’s)', '!auth_ok', { gather: ['auth_ok', 'inner.auth_ok', 'inner.lisp.auth_ok'] }),
  malformed: f('boolean', 'the frame has error notes (cannot be decoded as what it claims)', 'malformed'),
  notes: f('object', 'expert notes', undefined, { fields: NOTE }),
  flags: f('string', 'data header flags set, of N L E V I', 'flags contains I'),
  iid: f('number', 'data header Instance ID', 'iid == 223'),
  lsb: f('number', 'data header locator-status bits', 'lsb == 1'),
  map_version: f('object', 'data header map-versions', undefined, {
    fields: { source: f('number', 'source map-version', 'source > 0'), dest: f('number', 'destination map-version', 'dest > 0') },
  }),
  inner: f('object', 'an ECM’s inner IP/UDP and message, or a data packet’s inner packet', undefined, { fields: INNER }),
  icmp: f('object', 'the ICMP error of an `icmp-error`', undefined, { fields: ICMP }),
  quoted: f('object', 'the LISP packet an ICMP error quotes', undefined, { fields: { ...MESSAGE, src: INNER.src!, dst: INNER.dst!, sport: INNER.sport!, dport: INNER.dport!, inner: f('object', 'its inner part', undefined, { fields: INNER }) } }),
  transport: f('string', '`tcp` for the Map-Server reliable transport', 'transport == tcp'),
  messages: f('object', 'the Map-Server reliable-transport messages a TCP segment completed', undefined, {
    fields: {
      type: f('string', 'message type (registration, registration-ack, registration-reject, ...)', 'type == registration-reject'),
      message_id: f('number', 'Message ID', 'message_id == 0'),
      eid: f('prefix', 'EID-prefix of an ACK, Reject or Refresh', 'eid in 10.0.0.0/8'),
      reason: f('string', 'why a Registration was rejected', 'reason == not-site-eid-prefix'),
      auth_ok: f('boolean', 'the Registration’s Map-Register verified with --keys', '!auth_ok'),
    },
  }),
  summary: f('string', 'what a frame that is not LISP is (with --all)', 'summary contains ARP'),
};

const EXCHANGE_FIELDS: Schema = {
  kind: f('enum', 'kind of exchange', 'kind == registration', { values: EXCHANGE_KINDS }),
  outcome: f('enum', 'how it ended (`open` in the terminal UI: still waiting)', 'outcome == unanswered', { values: [...OUTCOMES, 'open'] }),
  eid: f('prefix', 'the EID prefix it is about', 'eid in 3.0.0.0/8'),
  nonce: f('nonce', 'its nonce (for smr: the SMR’s), or the SMR-invoked request’s', 'nonce == 0xadfe176be615fa2c', { gather: ['nonce', 'invoked_nonce'] }),
  frames: f('number', 'frame numbers of its packets', 'frames == 464'),
  files: f('number', 'capture numbers of its packets (several captures)', 'files == 2'),
  frame: f('number', 'one of its frames', 'frame == 464', { gather: ['frames'] }),
  start: f('number', 'time of its first packet', 'start > 1795640481'),
  requester: f('address', 'who asked', 'requester == 10.10.2.2'),
  responder: f('address', 'who answered (or was asked)', 'responder == 10.10.1.2'),
  rtt_ms: f('number', 'from the transmission the answer echoes to the answer', 'rtt_ms > 100'),
  time_to_answer_ms: f('number', 'from the first transmission to the answer', 'time_to_answer_ms > 1000'),
  retransmissions: f('number', 'repeated requests', 'retransmissions > 0'),
  rlocs: f('address', 'locators of the answer or registration', 'rlocs == 10.10.5.2'),
  via: f('address', 'the Map-Resolver or RTR it went through', 'via == 10.10.6.2'),
  rloc: f('address', 'requester, responder, via or any locator', 'rloc == 10.10.5.2', { gather: ['requester', 'responder', 'via', 'rlocs', 'probed_rloc', 'nat.global_etr_rloc', 'nat.rtr_rlocs'] }),
  lisp_sec: f('enum', 'LISP-SEC of a resolution', 'lisp_sec == unprotected', { values: ['requested', 'protected', 'unprotected'] }),
  site: f('string', 'registration: the xTR-ID, or the source without one', 'site matches "^0+"'),
  want_map_notify: f('boolean', 'registration: M was set', '!want_map_notify'),
  key_id: f('number', 'registration: Key ID', 'key_id == 2'),
  interval_ms: f('number', 'registration: time since the site’s previous one', 'interval_ms > 65000'),
  request_seen: f('boolean', 'false when only the answer is in the capture', '!request_seen'),
  invoked_nonce: f('nonce', 'smr: the SMR-invoked request’s nonce', 'invoked_nonce == 0xadfe176be615fa2c'),
  invoked_ms: f('number', 'smr: from the SMR to the SMR-invoked request', 'invoked_ms > 100'),
  smr_invoked: f('boolean', 'resolution: SMR-invoked, its SMR not in the capture', 'smr_invoked'),
  withdraw: f('boolean', 'subscription: withdrawn (ITR-RLOC of AFI 0)', 'withdraw'),
  subscription_nonce: f('nonce', 'publication: the nonce of its subscription', 'subscription_nonce == 0xcb41dd2bfe0bb7a3'),
  probed_rloc: f('address', 'rloc-probe: the probed locator', 'probed_rloc == 10.10.2.2'),
  referral_action: f('string', 'referral: the answer’s action', 'referral_action == ms-ack'),
  action: f('enum', 'negative answer: the action', 'action == native-forward', { values: ACTIONS }),
  auth_error: f('string', 'why authentication failed', 'auth_error contains key'),
  transport: f('string', '`tcp`: over the Map-Server reliable transport', 'transport == tcp'),
  message_id: f('number', 'reliable transport: the Registration’s Message ID', 'message_id == 0'),
  reject_reason: f('string', 'reliable transport: why the registration was rejected', 'reject_reason == not-site-eid-prefix'),
  nat: f('object', 'nat-info: the Info-Reply’s NAT details', undefined, { fields: NAT }),
  icmp: f('object', 'unreachable: the ICMP error', undefined, { fields: { ...ICMP, from: f('address', 'who sent the ICMP error', 'from == 10.10.2.1') } }),
  notes: f('object', 'remarks of the matching', undefined, { fields: { level: NOTE.level!, text: NOTE.text! } }),
};

const MAPPING_FIELDS: Schema = {
  eid: f('prefix', 'the EID prefix', 'eid == 3.0.0.3/32'),
  rloc: f('address', 'any locator of its timeline or handovers', 'rloc == 10.10.3.2', { gather: ['timeline.rlocs', 'handovers.from', 'handovers.to'] }),
  timeline: f('object', 'each RLOC set announced or learned', undefined, {
    fields: {
      ts: f('number', 'when', 'ts > 1795640481'),
      frame: f('number', 'frame', 'frame == 464'),
      source: f('string', 'message that announced it', 'source == map-reply'),
      by: f('address', 'who sent it', 'by == 10.10.1.2'),
      rlocs: f('address', 'the locators', 'rlocs == 10.10.5.2'),
    },
  }),
  handovers: f('object', 'each change of the RLOC set', undefined, {
    fields: {
      ts: f('number', 'when', 'ts > 1795640481'),
      frame: f('number', 'frame of the first message with the new set', 'frame == 464'),
      from: f('address', 'previous locators', 'from == 10.10.3.2'),
      to: f('address', 'new locators', 'to == 10.10.5.2'),
      baseline: f('enum', 'where the previous set came from', 'baseline == data-plane', { values: ['registration', 'map-reply', 'publication', 'data-plane'] }),
      peers: f('object', 'the xTRs that were sending to the EID', undefined, {
        fields: {
          peer: f('address', 'the peer', 'peer == 10.10.2.2'),
          smr_ts: f('number', 'when it got an SMR', 'smr_ts > 0'),
          updated_ts: f('number', 'when it re-learned the mapping', 'updated_ts > 0'),
          first_data_ts: f('number', 'its first data to a new locator', 'first_data_ts > 0'),
          latency_ms: f('number', 'handover to that first data packet', 'latency_ms > 1000'),
          idle: f('boolean', 'it sent nothing just before the handover: no latency', 'idle'),
          stale_data_packets: f('number', 'data it still sent to an old locator', 'stale_data_packets > 0'),
        },
      }),
    },
  }),
  no_handover: f('string', 'why an EID shows no handover', 'no_handover contains "cannot be seen"'),
  timeline_dropped: f('number', 'timeline entries not kept', 'timeline_dropped > 0'),
};

export const SCHEMAS: Readonly<Record<FilterDomain, Schema>> = { packet: PACKET_FIELDS, exchange: EXCHANGE_FIELDS, mapping: MAPPING_FIELDS };

/** The enum field a bare value stands for (`-Y map-register`, `-Y unanswered`), per domain. */
export const BARE_VALUES: Readonly<Record<FilterDomain, readonly string[]>> = { packet: ['type'], exchange: ['kind', 'outcome'], mapping: [] };

/** Every field name of a domain, nested ones dotted, with its declaration. */
export function fieldList(domain: FilterDomain): [string, FieldDef][] {
  const out: [string, FieldDef][] = [];
  const walk = (schema: Schema, pre: string) => {
    for (const [name, def] of Object.entries(schema)) {
      if (def.type === 'object') walk(def.fields!, `${pre}${name}.`);
      else out.push([pre + name, def]);
    }
  };
  walk(SCHEMAS[domain], '');
  return out;
}

/** The declaration of a (dotted) field name, or undefined. */
export function lookupField(domain: FilterDomain, name: string): FieldDef | undefined {
  const top = SCHEMAS[domain];
  if (top[name]) return top[name];
  const parts = name.split('.');
  let schema: Schema | undefined = top;
  let def: FieldDef | undefined;
  for (let i = 0; i < parts.length; i++) {
    def = schema?.[parts[i]!];
    if (!def) return undefined;
    schema = def.fields;
  }
  return def;
}

/**
 * A field's example as written for its full dotted name: examples are written relative to the
 * schema that declares the field (`rloc == …` for a locator), and shown under the path it has
 * there (`records.locators.rloc == …`).
 */
export function exampleFor(name: string, def: FieldDef): string | undefined {
  if (!def.example) return undefined;
  const m = /^(!?)([A-Za-z0-9_.]+)/.exec(def.example);
  if (!m || m[2] === name || !name.endsWith(`.${m[2]}`)) return def.example;
  return `${m[1]}${name}${def.example.slice(m[0].length)}`;
}
