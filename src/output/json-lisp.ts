// LISP messages in the JSON contract's form (../shared/json-contract.md): snake_case fields, nonces
// as 16 hex digits, addresses as text, prefixes as `addr/len` (`[iid]addr/len` inside an
// Instance-ID LCAF), other LCAFs as `{type, ...fields}`. Fields that do not apply are omitted.

import { toHex } from '../dissect/addr.js';
import { ENCAP_FORMAT_BITS, elpHopFlags } from '../dissect/lcaf.js';
import { actionSlug, AUTH_ALGORITHMS, lcafSlug, MESSAGE_TYPES, referralActionSlug } from '../dissect/registry.js';
import type {
  ControlMessage,
  DataMessage,
  EcmInner,
  LispAddress,
  Locator,
  MappingRecord,
  ReferralRecord,
} from '../dissect/types.js';
import { dataFlagLetters, dataHeaderFields } from '../dissect/data.js';

export type Json = string | number | boolean | null | Json[] | { [k: string]: Json | undefined };
export type JsonObject = { [k: string]: Json | undefined };

export interface JsonOptions {
  /** Show key material (security-key LCAF) instead of its length only. */
  showKeys?: boolean;
}

export function nonceHex(n: bigint): string {
  return n.toString(16).padStart(16, '0');
}

export function addressJson(a: LispAddress, opts: JsonOptions = {}): Json | undefined {
  switch (a.kind) {
    case 'none':
      return undefined;
    case 'ipv4':
    case 'ipv6':
    case 'mac':
      return a.addr;
    case 'dn':
      return a.name;
    case 'unknown':
      return { type: 'unknown-afi', afi: a.afi, data: toHex(a.raw) };
    case 'lcaf':
      return lcafJson(a, undefined, opts);
  }
}

export function prefixJson(a: LispAddress, maskLen: number, opts: JsonOptions = {}): Json | undefined {
  switch (a.kind) {
    case 'ipv4':
    case 'ipv6':
    case 'mac':
      return `${a.addr}/${maskLen}`;
    case 'lcaf':
      return lcafJson(a, maskLen, opts);
    default:
      return addressJson(a, opts);
  }
}

function lcafJson(a: Extract<LispAddress, { kind: 'lcaf' }>, maskLen: number | undefined, opts: JsonOptions): Json {
  const l = a.lcaf;
  const b = l.body;
  const addr = (x: LispAddress) => addressJson(x, opts);
  const sub = (x: LispAddress) => (maskLen === undefined ? addr(x) : prefixJson(x, maskLen, opts));
  switch (b.kind) {
    case 'instance-id': {
      const inner = sub(b.address);
      if (typeof inner === 'string') return `[${b.iid}]${inner}`;
      return { type: 'instance-id', iid: b.iid, mask_len: l.rsvd2, address: inner };
    }
    case 'null':
      return { type: 'null' };
    case 'afi-list':
      return { type: 'afi-list', addresses: b.addresses.map((x) => addr(x) ?? null) };
    case 'as-number':
      return { type: 'as-number', asn: b.asn, address: sub(b.address) };
    case 'application-data':
      return {
        type: 'application-data',
        tos: b.tos,
        protocol: b.protocol,
        local_port_low: b.localPortLow,
        local_port_high: b.localPortHigh,
        remote_port_low: b.remotePortLow,
        remote_port_high: b.remotePortHigh,
        address: addr(b.address),
      };
    case 'geo-coordinates': {
      const dec = (deg: number, min: number, sec: number, pos: boolean) =>
        Math.round((pos ? 1 : -1) * (deg + min / 60 + sec / 3600) * 1e6) / 1e6;
      return {
        type: 'geo-coordinates',
        latitude: dec(b.latDegrees, b.latMinutes, b.latSeconds, b.north),
        longitude: dec(b.lonDegrees, b.lonMinutes, b.lonSeconds, b.east),
        altitude: b.altitude === 0x7fffffff ? undefined : b.altitude,
        address: addr(b.address),
      };
    }
    case 'opaque-key':
      return {
        type: 'opaque-key',
        key_field_num: b.keyFieldNum,
        key_wildcard_fields: b.keyWildcardFields,
        key: toHex(b.key),
      };
    case 'nat-traversal':
      return {
        type: 'nat-traversal',
        ms_udp_port: b.msUdpPort,
        etr_udp_port: b.etrUdpPort,
        global_etr_rloc: addr(b.globalEtrRloc),
        ms_rloc: addr(b.msRloc),
        private_etr_rloc: addr(b.privateEtrRloc),
        rtr_rlocs: b.rtrRlocs.map((x) => addr(x) ?? null),
      };
    case 'nonce-locator':
      return { type: 'nonce-locator', nonce: b.nonce.toString(16).padStart(6, '0'), address: addr(b.address) };
    case 'multicast-info':
      return {
        type: 'multicast-info',
        iid: b.iid,
        source: prefixJson(b.source, b.sourceMaskLen, opts),
        group: prefixJson(b.group, b.groupMaskLen, opts),
        rp: (l.rsvd2 & 4) !== 0,
        leave: (l.rsvd2 & 2) !== 0,
        join: (l.rsvd2 & 1) !== 0,
      };
    case 'elp':
      return {
        type: 'elp',
        hops: b.hops.map((h) => {
          const f = elpHopFlags(h.flags);
          return { address: addr(h.address), lookup: f.lookup, rloc_probe: f.rlocProbe, strict: f.strict };
        }),
      };
    case 'security-key':
      return {
        type: 'security-key',
        key_count: b.keyCount,
        key_algorithm: b.keyAlgorithm,
        revoke: b.revoke,
        keys: b.keys.map((k) => (opts.showKeys ? { length: k.length, key: toHex(k) } : { length: k.length })),
        address: addr(b.address),
      };
    case 'source-dest':
      return {
        type: 'source-dest',
        source: prefixJson(b.source, b.sourceMaskLen, opts),
        dest: prefixJson(b.dest, b.destMaskLen, opts),
      };
    case 'rle':
      return { type: 'rle', entries: b.entries.map((e) => ({ address: addr(e.address), level: e.level })) };
    case 'json': {
      const binary = (l.rsvd2 & 1) !== 0;
      const text = binary ? toHex(b.json) : new TextDecoder('utf-8', { fatal: false }).decode(b.json);
      return { type: 'json', binary, json: text, address: addr(b.address) };
    }
    case 'key-value':
      return { type: 'key-value', key: addr(b.key), value: addr(b.value) };
    case 'encapsulation-format':
      return {
        type: 'encapsulation-format',
        formats: ENCAP_FORMAT_BITS.filter(([m]) => (b.bits & m) !== 0).map(([, n]) => n),
        address: b.address && addr(b.address),
      };
    case 'vendor':
      return { type: 'vendor', oui: b.oui.toString(16).padStart(6, '0'), data: toHex(b.data) };
    case 'raw':
      return { type: lcafSlug(l.type), lcaf_type: l.type, data: toHex(b.bytes) };
  }
}

function locatorJson(l: Locator, opts: JsonOptions): JsonObject {
  return {
    rloc: addressJson(l.rloc, opts) ?? null,
    priority: l.priority,
    weight: l.weight,
    mpriority: l.mpriority,
    mweight: l.mweight,
    local: l.local,
    probed: l.probed,
    reachable: l.reachable,
  };
}

export function recordJson(r: MappingRecord, opts: JsonOptions = {}): JsonObject {
  return {
    eid: prefixJson(r.eid, r.eidMaskLen, opts) ?? null,
    ttl: r.ttl,
    action: actionSlug(r.action),
    authoritative: r.authoritative,
    map_version: r.mapVersion,
    locators: r.locators.map((l) => locatorJson(l, opts)),
  };
}

function referralJson(r: ReferralRecord, opts: JsonOptions): JsonObject {
  return {
    eid: prefixJson(r.eid, r.eidMaskLen, opts) ?? null,
    ttl: r.ttl,
    action: referralActionSlug(r.action),
    authoritative: r.authoritative,
    incomplete: r.incomplete,
    map_version: r.mapVersion,
    locators: r.referrals.map((l) => locatorJson(l, opts)),
    signatures: r.signatures.length || undefined,
  };
}

function authJson(keyId: number, authData: Uint8Array): JsonObject {
  return {
    key_id: keyId,
    auth_algorithm: AUTH_ALGORITHMS.get(keyId & 0xff)?.name ?? `algorithm-${keyId & 0xff}`,
    auth_len: authData.length,
    auth: toHex(authData),
  };
}

/** The `type` value of the contract for a control message. */
export function controlTypeName(m: ControlMessage): string {
  if ('unknown' in m || m.type === 15) return 'unknown';
  if (m.type === 7) return m.reply ? 'info-reply' : 'info-request';
  return MESSAGE_TYPES.get(m.type)!.slug;
}

/** Contract fields of a control message, `type` and `nonce` first. */
export function controlJson(m: ControlMessage, opts: JsonOptions = {}): JsonObject {
  const o: JsonObject = { type: controlTypeName(m) };
  if ('unknown' in m) {
    o.control_type = m.type;
    o.data = toHex(m.data);
    return o;
  }
  if ('nonce' in m) o.nonce = nonceHex(m.nonce);
  switch (m.type) {
    case 1:
      Object.assign(o, {
        probe: m.probe,
        smr: m.smr,
        smr_invoked: m.smrInvoked,
        authoritative: m.authoritative,
        map_data_present: m.mapDataPresent,
        pitr: m.pitr,
        local_xtr: m.localXtr || undefined,
        dont_map_reply: m.dontMapReply || undefined,
        source_eid: addressJson(m.sourceEid, opts),
        itr_rlocs: m.itrRlocs.map((a) => addressJson(a, opts) ?? null),
        eids: m.eids.map((p) => prefixJson(p.prefix, p.maskLen, opts) ?? null),
        map_reply: m.mapReply && recordJson(m.mapReply, opts),
      });
      break;
    case 2:
      Object.assign(o, {
        probe: m.probe,
        echo_nonce: m.echoNonceCapable,
        security: m.security,
        records: m.records.map((r) => recordJson(r, opts)),
      });
      break;
    case 3:
      Object.assign(o, {
        proxy_reply: m.proxyReply,
        want_map_notify: m.wantMapNotify,
        merge: m.merge,
        xtr_id_present: m.xtrIdPresent,
        security: m.security || undefined,
        rtr: m.rtr || undefined,
        ttl_timeout: m.ttlTimeout || undefined,
        eid_notify: m.eidNotify || undefined,
        mobile_node: m.mobileNode || undefined,
        ...authJson(m.keyId, m.authData),
        records: m.records.map((r) => recordJson(r, opts)),
        xtr_id: m.xtrId && toHex(m.xtrId),
        site_id: m.siteId && toHex(m.siteId),
      });
      break;
    case 4:
    case 5:
      Object.assign(o, {
        xtr_id_present: m.xtrIdPresent || undefined,
        rtr: m.rtr || undefined,
        ...authJson(m.keyId, m.authData),
        records: m.records.map((r) => recordJson(r, opts)),
        xtr_id: m.xtrId && toHex(m.xtrId),
        site_id: m.siteId && toHex(m.siteId),
        ms_rtr_key_id: m.msRtrAuth?.keyId,
        ms_rtr_auth: m.msRtrAuth && toHex(m.msRtrAuth.authData),
      });
      break;
    case 6:
      o.records = m.records.map((r) => referralJson(r, opts));
      break;
    case 7: {
      Object.assign(o, {
        reply: m.reply,
        ...authJson(m.keyId, m.authData),
        ttl: m.ttl,
        eid: prefixJson(m.eid, m.eidMaskLen, opts),
      });
      const a = m.address;
      if (a.kind === 'lcaf' && a.lcaf.body.kind === 'nat-traversal') {
        const n = a.lcaf.body;
        o.nat = {
          global_etr_rloc: addressJson(n.globalEtrRloc, opts),
          global_etr_port: n.etrUdpPort,
          ms_udp_port: n.msUdpPort,
          etr_udp_port: n.etrUdpPort,
          ms_rloc: addressJson(n.msRloc, opts),
          private_etr_rloc: addressJson(n.privateEtrRloc, opts),
          rtr_rlocs: n.rtrRlocs.map((x) => addressJson(x, opts) ?? null),
        };
      } else if (a.kind !== 'none') {
        o.address = addressJson(a, opts);
      }
      break;
    }
    case 8:
      Object.assign(o, {
        security: m.security,
        ddt: m.ddt,
        rtr: m.toEtr,
        to_etr: m.toEtr,
        to_ms: m.toMs,
        inner: ecmInnerJson(m.inner, opts),
      });
      break;
    case 15:
      Object.assign(o, { control_type: 15, name: 'shared-extension', sub_type: m.subType, data: toHex(m.data) });
      break;
  }
  if (m.trailing) o.trailing = toHex(m.trailing);
  return o;
}

function ecmInnerJson(i: EcmInner, opts: JsonOptions): JsonObject {
  const o: JsonObject = { src: i.src, dst: i.dst, sport: i.sport, dport: i.dport };
  if (i.message) Object.assign(o, controlJson(i.message, opts));
  else if (i.payload) o.payload = toHex(i.payload);
  return o;
}

export function dataJson(d: DataMessage): JsonObject {
  const f = dataHeaderFields(d.header);
  const o: JsonObject = { type: 'data', flags: dataFlagLetters(d.header) };
  if (f.nonce !== undefined) o.nonce = f.nonce.toString(16).padStart(6, '0');
  if (f.srcMapVersion !== undefined) o.map_version = { source: f.srcMapVersion, dest: f.dstMapVersion! };
  if (f.iid !== undefined) o.iid = f.iid;
  if (f.lsb !== undefined) o.lsb = f.lsb;
  if (f.keyId) o.key_id = f.keyId;
  if (f.gpeNextProtocol !== undefined) o.next_protocol = f.gpeNextProtocol;
  if (d.inner) {
    const i = d.inner;
    o.inner = {
      src: i.src,
      dst: i.dst,
      proto: i.proto,
      len: i.len,
      sport: i.sport,
      dport: i.dport,
      icmp_type: i.icmpType,
      icmp_code: i.icmpCode,
    };
  }
  return o;
}
