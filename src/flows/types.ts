// What the flow engine reports: exchanges (request → answer), mapping timelines and handovers, and
// statistics. Shapes follow ../shared/json-contract.md (`flows`, `mappings`).

export type ExchangeKind = 'registration' | 'resolution' | 'smr' | 'rloc-probe' | 'nat-info' | 'referral';

/**
 * `answered`, `negative` (Map-Reply with no locators), `unanswered`, `auth-failed` (with keys) are
 * the contract's; `unacknowledged` is ours: a Map-Register that did not ask for a Map-Notify (M=0)
 * and got none, which is not a failure; so is `rejected`: the Map-Server refused a registration
 * over the reliable transport (Registration Reject, its reason in `rejectReason`). UDP has no such
 * answer (a refused Map-Register is just not answered), so none of the contract's values says it.
 */
export type Outcome = 'answered' | 'negative' | 'unanswered' | 'auth-failed' | 'unacknowledged' | 'rejected';

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
  rttMs: number | null;
  retransmissions: number;
  outcome: Outcome;
  /** Locators of the answer (or of the registration). */
  rlocs?: string[];
  // --- beyond the contract -----------------------------------------------------------------
  /** The Map-Resolver (or RTR) the request went through, for ECM'd requests. */
  via?: string;
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
  /** Map-Reply answered only: the request was not in the capture (another vantage point). */
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
  latencyMs: number | null;
  staleDataPackets: number;
}

export interface Handover {
  ts: number;
  frame: FrameRef;
  from: string[];
  to: string[];
  peers: HandoverPeer[];
}

export interface Mapping {
  eid: string;
  timeline: TimelineEntry[];
  handovers: Handover[];
  /** Timeline entries left out beyond the per-EID cap. */
  timelineDropped?: number;
}
