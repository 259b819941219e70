// The Mobile Node's configuration file (`lispscope mn run --config FILE`): JSON, read again on
// SIGUSR1. The RLOCs are given as addresses or as interfaces whose addresses are polled.

import { networkInterfaces } from 'node:os';
import { fromHex } from '../dissect/addr.js';
import { ipAddress } from '../dissect/address.js';
import { toPrefix } from './eid.js';
import { LISP_CONTROL_PORT, LISP_DATA_PORT } from '../dissect/registry.js';

export interface MobileNodeConfig {
  eid: string;
  /** RLOC addresses, when given directly. */
  rlocs?: string[];
  /** Interfaces whose addresses are the RLOCs (polled). */
  interfaces?: string[];
  /** 'ipv4' (default) or 'ipv6': which interface addresses count. */
  family: 'ipv4' | 'ipv6';
  mapServer: { address: string; port: number };
  /** Path of the key file, relative to the config file (or LISPSCOPE_KEY in the environment). */
  keyFile?: string;
  keyId: number;
  mapResolver: string;
  petr?: string;
  proxyReply: boolean;
  natTraversal: boolean;
  /** Seconds. */
  registerInterval: number;
  pollInterval: number;
  controlPort: number;
  dataPort: number;
  /** 128-bit xTR-ID; null: none (I clear); absent: derived from the EID and key. */
  xtrId?: Uint8Array | null;
  /** 64-bit site-ID sent with the xTR-ID. */
  siteId?: Uint8Array;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const KNOWN = new Set([
  'eid',
  'rlocs',
  'interfaces',
  'family',
  'mapServer',
  'keyFile',
  'keyId',
  'mapResolver',
  'petr',
  'proxyReply',
  'natTraversal',
  'registerInterval',
  'pollInterval',
  'controlPort',
  'dataPort',
  'xtrId',
  'siteId',
]);

function ip(v: unknown, what: string): string {
  if (typeof v !== 'string' || !ipAddress(v)) throw new ConfigError(`${what} must be an IP address, not ${JSON.stringify(v)}`);
  return v;
}

function num(v: unknown, what: string, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new ConfigError(`${what} must be a number from ${min} to ${max}`);
  return v;
}

function bool(v: unknown, what: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new ConfigError(`${what} must be true or false`);
  return v;
}

function hexId(v: unknown, what: string, bytes: number, or = ''): Uint8Array {
  const b = typeof v === 'string' ? fromHex(v.replace(/^0x/i, '').replace(/[:-]/g, '')) : undefined;
  if (!b || b.length !== bytes) throw new ConfigError(`${what} must be ${bytes * 2} hex digits${or ? ` or ${or}` : ''}`);
  return b;
}

/** Parses and checks the configuration text; throws ConfigError naming the first problem. */
export function parseMobileNodeConfig(text: string): MobileNodeConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`not JSON (${(e as Error).message})`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError('must be a JSON object');
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KNOWN.has(k)) throw new ConfigError(`unknown setting "${k}"`);
  if (typeof o.eid !== 'string') throw new ConfigError('"eid" (the EID prefix, e.g. "10.1.0.5/32") is required');
  try {
    toPrefix(o.eid);
  } catch {
    throw new ConfigError(`"eid" is not an EID prefix: ${JSON.stringify(o.eid)}`);
  }
  const cfg: MobileNodeConfig = {
    eid: o.eid,
    family: o.family === 'ipv6' ? 'ipv6' : 'ipv4',
    mapServer: { address: '', port: LISP_CONTROL_PORT },
    keyId: num(o.keyId, '"keyId"', 2, 1, 2),
    mapResolver: '',
    proxyReply: bool(o.proxyReply, '"proxyReply"', true),
    natTraversal: bool(o.natTraversal, '"natTraversal"', false),
    registerInterval: num(o.registerInterval, '"registerInterval"', 60, 0.1, 86_400),
    pollInterval: num(o.pollInterval, '"pollInterval"', 2, 0.1, 3600),
    controlPort: num(o.controlPort, '"controlPort"', LISP_CONTROL_PORT, 1, 65535),
    dataPort: num(o.dataPort, '"dataPort"', LISP_DATA_PORT, 1, 65535),
  };
  if (o.family !== undefined && o.family !== 'ipv4' && o.family !== 'ipv6') throw new ConfigError('"family" must be "ipv4" or "ipv6"');
  if (o.rlocs !== undefined) {
    if (!Array.isArray(o.rlocs) || o.rlocs.length === 0) throw new ConfigError('"rlocs" must be a non-empty array of addresses');
    cfg.rlocs = o.rlocs.map((r, i) => ip(r, `"rlocs"[${i}]`));
  }
  if (o.interfaces !== undefined) {
    if (!Array.isArray(o.interfaces) || o.interfaces.length === 0 || o.interfaces.some((i) => typeof i !== 'string')) {
      throw new ConfigError('"interfaces" must be a non-empty array of interface names');
    }
    cfg.interfaces = o.interfaces as string[];
  }
  if (!cfg.rlocs && !cfg.interfaces) throw new ConfigError('give the RLOCs: "rlocs" (addresses) or "interfaces" (names)');
  const ms = o.mapServer;
  if (typeof ms === 'string') cfg.mapServer = { address: ip(ms, '"mapServer"'), port: LISP_CONTROL_PORT };
  else if (ms && typeof ms === 'object') {
    const m = ms as Record<string, unknown>;
    cfg.mapServer = { address: ip(m.address, '"mapServer".address'), port: num(m.port, '"mapServer".port', LISP_CONTROL_PORT, 1, 65535) };
  } else throw new ConfigError('"mapServer" (an address, or {address, port}) is required');
  cfg.mapResolver = o.mapResolver === undefined ? cfg.mapServer.address : ip(o.mapResolver, '"mapResolver"');
  if (o.petr !== undefined) cfg.petr = ip(o.petr, '"petr"');
  if (o.xtrId !== undefined) {
    if (o.xtrId === 'none' || o.xtrId === null) cfg.xtrId = null;
    else cfg.xtrId = hexId(o.xtrId, '"xtrId"', 16, '"none"');
  }
  if (o.siteId !== undefined) {
    if (cfg.xtrId === null) throw new ConfigError('"siteId" travels with an xTR-ID: not with "xtrId": "none"');
    cfg.siteId = hexId(o.siteId, '"siteId"', 8);
  }
  if (o.keyFile !== undefined) {
    if (typeof o.keyFile !== 'string' || !o.keyFile) throw new ConfigError('"keyFile" must be a path');
    cfg.keyFile = o.keyFile;
  }
  return cfg;
}

/** The current addresses of `names` (in that order, of `family`), skipping link-local IPv6. */
export function interfaceAddresses(names: string[], family: 'ipv4' | 'ipv6'): string[] {
  const all = networkInterfaces();
  const out: string[] = [];
  for (const n of names) {
    for (const a of all[n] ?? []) {
      if (a.family !== (family === 'ipv4' ? 'IPv4' : 'IPv6')) continue;
      if (family === 'ipv6' && a.address.toLowerCase().startsWith('fe80')) continue;
      out.push(a.address);
    }
  }
  return out;
}

/** The RLOCs a configuration names now. */
export function configuredRlocs(cfg: MobileNodeConfig): string[] {
  return cfg.rlocs ?? interfaceAddresses(cfg.interfaces ?? [], cfg.family);
}
