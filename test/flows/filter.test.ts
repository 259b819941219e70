import { describe, expect, it } from 'vitest';
import { compileFilter, FilterError } from '../../src/flows/filter.js';

const register = {
  frame: 1,
  type: 'map-register',
  nonce: '67ab931f9e8b974a',
  src: '10.0.123.2',
  dst: '10.0.123.1',
  want_map_notify: true,
  records: [{ eid: '3.0.0.3/32', locators: [{ rloc: '12.0.0.2', priority: 1 }] }],
};
const ecm = { type: 'ecm', src: '192.0.2.1', dst: '192.0.2.2', inner: { type: 'map-request', smr: false, probe: true, src: '192.0.2.9', eids: ['10.1.0.5/32'], itr_rlocs: ['192.0.2.9'] } };
const exchange = { kind: 'resolution', eid: '10.1.0.5/32', outcome: 'unanswered', rtt_ms: null, retransmissions: 2, requester: '192.0.2.9' };
const smr = { kind: 'smr', eid: '10.1.0.5/32', outcome: 'answered', rtt_ms: 297 };
const data = { type: 'data', src: '198.51.100.1', dst: '198.51.100.2', inner: { src: '10.2.0.7', dst: '10.1.0.5', proto: 1 } };

const t = (expr: string, o: object) => compileFilter(expr)(o as Record<string, unknown>);

describe('display filter', () => {
  it('compares fields, EIDs, RLOCs and nonces', () => {
    expect(t('type == map-register', register)).toBe(true);
    expect(t('type == map-reply', register)).toBe(false);
    expect(t('eid == 3.0.0.3/32', register)).toBe(true);
    expect(t('eid == 3.0.0.3', register)).toBe(true);
    expect(t('eid in 3.0.0.0/8', register)).toBe(true);
    expect(t('eid in 10.0.0.0/8', register)).toBe(false);
    expect(t('rloc == 12.0.0.2', register)).toBe(true);
    expect(t('rloc == 10.0.123.2', register)).toBe(true);
    expect(t('nonce == 0x67ab931f9e8b974a', register)).toBe(true);
    expect(t('nonce == 67AB931F9E8B974A', register)).toBe(true);
    expect(t('records.locators.priority < 2', register)).toBe(true);
    expect(t('inner.type == map-request && eid == 10.1.0.5/32', ecm)).toBe(true);
    expect(t('eid in 10.1.0.0/16', data)).toBe(true);
    expect(t('rloc == 192.0.2.9', ecm)).toBe(true);
  });

  it('has bare fields, boolean operators and parentheses', () => {
    expect(t('smr', smr)).toBe(true);
    expect(t('smr', exchange)).toBe(false);
    expect(t('probe', ecm)).toBe(false); // probe sits in inner: spell it inner.probe
    expect(t('inner.probe', ecm)).toBe(true);
    expect(t('want_map_notify', register)).toBe(true);
    expect(t('!smr && outcome == unanswered', exchange)).toBe(true);
    expect(t('outcome == answered || (retransmissions >= 2 and kind == resolution)', exchange)).toBe(true);
    expect(t('not (rtt_ms > 100)', smr)).toBe(false);
    expect(t('rtt_ms > 100', exchange)).toBe(false);
    expect(t('outcome != answered', exchange)).toBe(true);
    expect(t("eid contains '10.1'", exchange)).toBe(true);
  });

  it('points at the column of a mistake', () => {
    const err = (e: string) => {
      try {
        compileFilter(e);
      } catch (x) {
        expect(x).toBeInstanceOf(FilterError);
        return (x as Error).message;
      }
      throw new Error('no error');
    };
    expect(err('type == ')).toBe('expected a value after "==" at column 9 (end of filter)');
    expect(err('type == map-register &&')).toBe('expected a field name at column 24 (end of filter)');
    expect(err('(smr')).toBe('expected ")" at column 5 (end of filter)');
    expect(err('rtt_ms > fast')).toBe('">" needs a number, not "fast", at column 10');
    expect(err('eid in nowhere')).toBe('"in" needs an address prefix like 10.0.0.0/8, not "nowhere", at column 8');
    expect(err('type == x y')).toBe('unexpected at column 11 ("y")');
    expect(err('type = x')).toBe('unexpected "=" at column 6');
  });
});
