// What the flow engine reports: exchanges (request → answer), mapping timelines and handovers, and
// statistics. Shapes follow ../shared/json-contract.md (`flows`, `mappings`).

/**
 * The contract's kinds, and Publish/Subscribe's (RFC 9437): `subscription` (a Map-Request with the I
 * bit → the Map-Server's Map-Notify with its nonce, or a Map-Reply) and `publication` (a Map-Notify to
 * a subscriber → its Map-Notify-Ack).
 */
export type ExchangeKind = 'registration' | 'resolution' | 'smr' | 'rloc-probe' | 'nat-info' | 'referral' | 'subscription' | 'publication';

/** A remark on an exchange, with a level as Wireshark's expert info has (see the decoder's notes). */
export interface ExchangeNote {
  level: 'error' | 'warning' | 'note';
  text: string;
}

/**
 * The contract's outcomes: `answered`, `negative` (Map-Reply with no locators), `unanswered`,
 * `auth-failed` (with keys), `rejected` (Registration Reject over the reliable transport, its
 * reason in `rejectReason`), `forwarded` (this vantage point saw the request forwarded towards an
 * ETR or Map-Server, and the answer travels elsewhere), `unreachable` (an ICMP error answered the
 * request) and `reply-only` (an answer whose request is not in the capture). `unacknowledged` is
 * ours: a Map-Register that did not ask for a Map-Notify (M=0) and got none, which is no failure.
 */
export type Outcome = 'answered' | 'negative' | 'unanswered' | 'auth-failed' | 'unacknowledged' | 'rejected' | 'forwarded' | 'unreachable' | 'reply-only';

/** A packet's place: frame number, and which capture when several are merged (0-based). */
export interface FrameRef {
  frame: number;
  file: number;
}

export interface Exchange {
  kind: ExchangeKind;
  /** The EID prefix the exchange is about. */
  eid: string;
  /** The nonce that ties it together (for `smr`, the SMR's), 16 hex digits. */
  nonce: string;
  frames: FrameRef[];
  /** ts of the first packet. */
  start: number;
  requester: string;
  responder?: string;
  /** From the transmission whose nonce the answer echoes (the latest with it) to the answer. */
  rttMs: number | null;
  /** From the first transmission to the answer. */
  timeToAnswerMs: number | null;
  retransmissions: number;
  outcome: Outcome;
  /** Locators of the answer (or of the registration). */
  rlocs?: string[];
  // --- beyond the contract -----------------------------------------------------------------
  /** The Map-Resolver (or RTR) the request went through, for ECM'd or relayed requests. */
  via?: string;
  /** Remarks the matching made (a Map-Reply record that does not cover the requested EID, ...). */
  notes?: ExchangeNote[];
  /** unreachable: the ICMP error that answered the request, and who sent it. */
  icmp?: { type: number; code: number; name: string; from: string; mtu?: number };
  /** resolution: the Map-Request was SMR-invoked (its SMR is not in the capture). */
  smrInvoked?: boolean;
  /** registration: the Key ID of the Map-Register (which key and algorithm signed it). */
  keyId?: number;
  /** subscription: the Map-Request withdraws the subscription (its ITR-RLOC has AFI 0). */
  withdraw?: boolean;
  /** publication: the nonce of the subscription it publishes to. */
  subscriptionNonce?: string;
  /**
   * Resolution under LISP-SEC (RFC 9303): `requested` when the ITR's ECM carried a One-Time Key
   * and no answer came; `protected` when the Map-Reply carries EID-AD and PKT-AD; `unprotected`
   * when the ITR asked and the Map-Reply carries neither (an ITR doing LISP-SEC discards it).
   */
  lispSec?: 'requested' | 'protected' | 'unprotected';
  /** Registration: who registered (xTR-ID when present, else the requester address). */
  site?: string;
  /** Registration: M was set. */
  wantMapNotify?: boolean;
  /** Registration: time since the previous registration of this EID by this site. */
  intervalMs?: number;
  /** reply-only: the request was not in the capture (another vantage point). */
  requestSeen?: boolean;
  /** smr: the SMR-invoked Map-Request that answered it. */
  invokedNonce?: string;
  invokedMs?: number;
  /** rloc-probe: the probed locator and whether it answered as reachable. */
  probedRloc?: string;
  /** nat-info: the NAT details of the Info-Reply. */
  nat?: { globalEtrRloc?: string; etrUdpPort: number; msUdpPort: number; msRloc?: string; privateEtrRloc?: string; rtrRlocs: string[] };
  /** referral: the referral action of the answer. */
  referralAction?: string;
  /** Negative replies: the action. */
  action?: string;
  /** Why authentication failed. */
  authError?: string;
  /** Registration over the Map-Server reliable transport (TCP 4342) rather than UDP. */
  transport?: 'tcp';
  /** Reliable transport: the Message ID of the (first) Registration. */
  messageId?: number;
  /** Reliable transport: the Registration Reject's reason (`not-site-eid-prefix`, ...). */
  rejectReason?: string;
}

/**
 * The fields of an exchange a consumer that only counts exchanges reads (the statistics, --fail-on's
 * outcomes): an ExchangeTracker given `onSummary` builds these, without the frames, the nonce's text
 * and the rest, for each of the hundreds of thousands of exchanges of a large capture.
 */
export const SUMMARY_FIELDS = ['kind', 'eid', 'start', 'rttMs', 'retransmissions', 'outcome', 'via', 'site', 'wantMapNotify', 'keyId', 'intervalMs', 'rlocs'] as const;
export type ExchangeSummary = Pick<Exchange, (typeof SUMMARY_FIELDS)[number]>;

export interface TimelineEntry {
  ts: number;
  frame: FrameRef;
  /** The message type that announced (map-register, map-notify) or taught (map-reply) the set. */
  source: string;
  /** Who sent it. */
  by: string;
  rlocs: string[];
  /** Carried by the Map-Server reliable transport (TCP) rather than UDP. */
  transport?: 'tcp';
}

export interface HandoverPeer {
  peer: string;
  smrTs?: number;
  updatedTs?: number;
  firstDataTs?: number;
  /**
   * Handover to the peer's first data packet to a new RLOC; null when it never sent one, or when it
   * was idle (no data to the EID within the active window before the handover: its first packet
   * after it measures its silence, not the move).
   */
  latencyMs: number | null;
  /** The peer sent no data to the EID within the active window before the handover. */
  idle?: boolean;
  staleDataPackets: number;
}

/**
 * What the previous RLOC set of a handover was taken from: an earlier registration (Map-Register,
 * Map-Notify), Map-Replies or publications (pub/sub Map-Notifies) seen earlier, or, when the capture
 * holds none, the RLOCs peers were
 * encapsulating data to (the previous registration came before the capture).
 */
export type HandoverBaseline = 'registration' | 'map-reply' | 'publication' | 'data-plane';

export interface Handover {
  ts: number;
  frame: FrameRef;
  from: string[];
  to: string[];
  baseline: HandoverBaseline;
  peers: HandoverPeer[];
}

export interface Mapping {
  eid: string;
  timeline: TimelineEntry[];
  handovers: Handover[];
  /** Timeline entries left out beyond the per-EID cap. */
  timelineDropped?: number;
  /** An EID without a handover: why, in one line (nothing changed, or the capture cannot show it). */
  noHandover?: string;
}
