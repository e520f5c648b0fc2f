//! UPDATE messages (RFC 4271 §4.3) and their error handling (RFC 4271
//! §6.3 as revised by RFC 7606), End-of-RIB markers (RFC 4724 §2).
//!
//! Owns the split of an UPDATE into withdrawn routes, path attributes and
//! NLRI, and the classification of every malformation into session reset
//! ([`UpdateError`]), treat-as-withdraw or attribute discard
//! ([`UpdateReport`]). Never touches a RIB and never checks what needs
//! session configuration (eBGP vs iBGP rules for LOCAL_PREF, confederation
//! segments from an external peer, our own address as next hop).

use bytes::{BufMut, BytesMut};
use thiserror::Error;

pub use super::attribute::{AttributeIssue, MpReach, MpUnreach, Problem};

use super::attribute::mp::{self, Mp, MpError};
use super::attribute::{code, flag, flags_ok, malformed_action, put_attr, ErrorAction};
use super::nlri::{decode_prefixes, decode_prefixes_into, Afi, AfiSafi, Nlri, NlriError};
use super::notification::{ErrorCode, Notification, UpdateSubcode};
use super::{wire, EncodeError, PathAttributes, SessionCaps};
use crate::evpn::nlri::EvpnRoute;

/// ```text
/// +-----------------------------------------------------+
/// |   Withdrawn Routes Length (2 octets)                |
/// +-----------------------------------------------------+
/// |   Withdrawn Routes (variable)                       |
/// +-----------------------------------------------------+
/// |   Total Path Attribute Length (2 octets)            |
/// +-----------------------------------------------------+
/// |   Path Attributes (variable)                        |
/// +-----------------------------------------------------+
/// |   Network Layer Reachability Information (variable) |
/// +-----------------------------------------------------+
/// ```
/// RFC 4271 §4.3. Classic withdrawn routes and NLRI are IPv4 unicast; the
/// MP attributes carry the other families (RFC 4760).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Update {
    pub withdrawn: Vec<Nlri>,
    pub attributes: PathAttributes,
    pub mp_reach: Option<MpReach>,
    pub mp_unreach: Option<MpUnreach>,
    pub nlri: Vec<Nlri>,
    /// L2VPN EVPN routes of MP_REACH_NLRI (next hop in
    /// `attributes.mp_next_hop`); never together with `mp_reach`.
    pub evpn_reach: Vec<EvpnRoute>,
    /// L2VPN EVPN routes of MP_UNREACH_NLRI; never with `mp_unreach`.
    pub evpn_unreach: Vec<EvpnRoute>,
}

/// What to do with the routes of a received UPDATE (RFC 7606 §2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum UpdateAction {
    /// Install the NLRI with the attributes.
    #[default]
    Normal,
    /// Every NLRI of the UPDATE (classic and MP_REACH) is a withdrawal.
    TreatAsWithdraw { reasons: Vec<AttributeIssue> },
}

/// The RFC 7606 outcome of decoding an UPDATE, for the session and for
/// logs and counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateReport {
    pub action: UpdateAction,
    /// Attributes dropped while the routes were kept.
    pub discarded: Vec<AttributeIssue>,
}

/// A decoded UPDATE with its RFC 7606 outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedUpdate {
    pub update: Update,
    pub report: UpdateReport,
}

impl ParsedUpdate {
    pub fn is_treat_as_withdraw(&self) -> bool {
        matches!(self.report.action, UpdateAction::TreatAsWithdraw { .. })
    }

    /// Whether the routes of later UPDATEs that repeat this one's path
    /// attributes ([`repeated_nlri`]) can join its own: IPv4 NLRI, or
    /// IPv4/IPv6 unicast in MP_REACH_NLRI (not both), installed as they
    /// are, nothing discarded (so that the RFC 7606 counters and logs see
    /// every malformed UPDATE).
    pub fn takes_repeats(&self) -> bool {
        let u = &self.update;
        let routes = match (&u.mp_reach, u.nlri.is_empty()) {
            (None, false) => true,
            (Some(m), true) => {
                !m.nlri.is_empty()
                    && [AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST].contains(&m.family)
            }
            _ => false,
        };
        routes
            && self.report == UpdateReport::default()
            && u.mp_unreach.is_none()
            && u.evpn_reach.is_empty()
            && u.evpn_unreach.is_empty()
    }

    /// RFC 5065 §5 with RFC 7606 §7.2: AS_CONFED segments in an AS_PATH
    /// from a peer outside our confederation make it malformed:
    /// treat-as-withdraw. This speaker is never a confederation member, so
    /// the session applies it to every peer. Returns whether it applied.
    pub fn withdraw_if_confed_path(&mut self) -> bool {
        let confed = self
            .update
            .attributes
            .as_path
            .as_ref()
            .is_some_and(|p| p.has_confed());
        let announces =
            self.update.reachable().next().is_some() || !self.update.evpn_reach.is_empty();
        if !confed || !announces {
            return false;
        }
        let issue = AttributeIssue {
            type_code: code::AS_PATH,
            problem: Problem::Value,
        };
        match &mut self.report.action {
            UpdateAction::TreatAsWithdraw { reasons } => reasons.push(issue),
            action => {
                *action = UpdateAction::TreatAsWithdraw {
                    reasons: vec![issue],
                }
            }
        }
        true
    }

    /// RFC 7606 §7.5: LOCAL_PREF from an external peer is discarded
    /// ("attribute discard"), malformed or not, so a malformed one costs
    /// only itself. For eBGP sessions; returns whether it was present.
    pub fn discard_ebgp_local_pref(&mut self) -> bool {
        let mut found = self.update.attributes.local_pref.take().is_some();
        if let UpdateAction::TreatAsWithdraw { reasons } = &mut self.report.action {
            let (local_pref, rest): (Vec<_>, Vec<_>) = std::mem::take(reasons)
                .into_iter()
                .partition(|i| i.type_code == code::LOCAL_PREF);
            found |= !local_pref.is_empty();
            self.report.discarded.extend(local_pref);
            *reasons = rest;
            if reasons.is_empty() {
                self.report.action = UpdateAction::Normal;
            }
        }
        found
    }

    /// Routes to install with `update.attributes` (none under
    /// treat-as-withdraw). An iterator: the RIB walks it once per UPDATE
    /// and a list would cost an allocation per message.
    pub fn announced(&self) -> impl Iterator<Item = (AfiSafi, Nlri)> + '_ {
        let install = !self.is_treat_as_withdraw();
        self.update.reachable().filter(move |_| install)
    }

    /// Routes to remove: the withdrawn ones, and under treat-as-withdraw
    /// the announced ones too.
    pub fn withdrawn(&self) -> impl Iterator<Item = (AfiSafi, Nlri)> + '_ {
        let u = &self.update;
        let withdraw_all = self.is_treat_as_withdraw();
        u.withdrawn
            .iter()
            .map(|n| (AfiSafi::IPV4_UNICAST, *n))
            .chain(
                u.mp_unreach
                    .iter()
                    .flat_map(|m| m.withdrawn.iter().map(|n| (m.family, *n))),
            )
            .chain(u.reachable().filter(move |_| withdraw_all))
    }

    /// EVPN routes to install with `update.attributes` (none under
    /// treat-as-withdraw).
    pub fn evpn_announced(&self) -> &[EvpnRoute] {
        if self.is_treat_as_withdraw() {
            return &[];
        }
        &self.update.evpn_reach
    }

    /// EVPN routes to remove: the withdrawn ones, and under
    /// treat-as-withdraw the announced ones too.
    pub fn evpn_withdrawn(&self) -> impl Iterator<Item = &EvpnRoute> {
        let announced: &[EvpnRoute] = if self.is_treat_as_withdraw() {
            &self.update.evpn_reach
        } else {
            &[]
        };
        self.update.evpn_unreach.iter().chain(announced)
    }
}

/// Why an UPDATE ends the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateErrorReason {
    /// Withdrawn Routes Length or Total Path Attribute Length overrun the
    /// message (RFC 4271 §6.3).
    Lengths,
    WithdrawnRoutes(NlriError),
    Nlri(NlriError),
    /// MP_REACH_NLRI / MP_UNREACH_NLRI malformed (RFC 7606 §7.11, §3(j)).
    Mp {
        type_code: u8,
        error: MpError,
    },
    /// MP attribute with bad flags.
    MpFlags {
        type_code: u8,
        flags: u8,
    },
    /// MP attribute overruns the attribute section (its NLRI are lost).
    MpOverrun(u8),
    /// MP attribute present twice (RFC 7606 §3(g)).
    MpDuplicate(u8),
    /// Well-known attribute we do not know (RFC 4271 §6.3).
    UnrecognizedWellKnown(u8),
}

impl std::fmt::Display for UpdateErrorReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use super::attribute::attribute_name as name;
        match self {
            Self::Lengths => f.write_str("lengths overrun the message"),
            Self::WithdrawnRoutes(e) => write!(f, "withdrawn routes: {e}"),
            Self::Nlri(e) => write!(f, "NLRI: {e}"),
            Self::Mp { type_code, error } => write!(f, "{}: {error}", name(*type_code)),
            Self::MpFlags { type_code, flags } => {
                write!(f, "{}: bad flags {flags:#04x}", name(*type_code))
            }
            Self::MpOverrun(t) => write!(f, "{} overruns the attributes", name(*t)),
            Self::MpDuplicate(t) => write!(f, "{} appears twice", name(*t)),
            Self::UnrecognizedWellKnown(t) => write!(f, "unrecognized well-known {}", name(*t)),
        }
    }
}

/// An UPDATE that requires a session reset: NOTIFICATION 3/`subcode` with
/// `data` (the offending attribute where the RFC says so).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("UPDATE error ({subcode}): {reason}")]
pub struct UpdateError {
    pub subcode: UpdateSubcode,
    pub data: Vec<u8>,
    pub reason: UpdateErrorReason,
}

impl UpdateError {
    fn new(subcode: UpdateSubcode, data: &[u8], reason: UpdateErrorReason) -> Self {
        Self {
            subcode,
            data: data.to_vec(),
            reason,
        }
    }

    pub fn notification(&self) -> Notification {
        Notification::new(ErrorCode::Update(self.subcode), self.data.clone())
    }
}

impl Update {
    /// Every announced route with its family.
    pub fn reachable(&self) -> impl Iterator<Item = (AfiSafi, Nlri)> + '_ {
        self.nlri.iter().map(|n| (AfiSafi::IPV4_UNICAST, *n)).chain(
            self.mp_reach
                .iter()
                .flat_map(|m| m.nlri.iter().map(|n| (m.family, *n))),
        )
    }

    /// How many routes (NLRI) it announces and withdraws, every family
    /// and EVPN included.
    pub fn route_count(&self) -> usize {
        self.withdrawn.len()
            + self.nlri.len()
            + self.mp_reach.as_ref().map_or(0, |m| m.nlri.len())
            + self.mp_unreach.as_ref().map_or(0, |m| m.withdrawn.len())
            + self.evpn_reach.len()
            + self.evpn_unreach.len()
    }

    /// The End-of-RIB marker of `family` (RFC 4724 §2): an empty UPDATE
    /// for IPv4 unicast, an empty MP_UNREACH_NLRI otherwise.
    pub fn end_of_rib(family: AfiSafi) -> Self {
        if family == AfiSafi::IPV4_UNICAST {
            return Self::default();
        }
        Self {
            mp_unreach: Some(MpUnreach {
                family,
                withdrawn: Vec::new(),
            }),
            ..Self::default()
        }
    }

    /// The family this UPDATE marks End-of-RIB for, if it is a marker.
    pub fn end_of_rib_family(&self) -> Option<AfiSafi> {
        if !self.withdrawn.is_empty()
            || !self.nlri.is_empty()
            || self.mp_reach.is_some()
            || !self.evpn_reach.is_empty()
            || !self.evpn_unreach.is_empty()
            || self.attributes != PathAttributes::default()
        {
            return None;
        }
        match &self.mp_unreach {
            None => Some(AfiSafi::IPV4_UNICAST),
            Some(m) if m.withdrawn.is_empty() => Some(m.family),
            Some(_) => None,
        }
    }

    pub(crate) fn encode_body(
        &self,
        caps: &SessionCaps,
        buf: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        let add_path = caps.add_path_tx(AfiSafi::IPV4_UNICAST);
        for n in self.withdrawn.iter().chain(&self.nlri) {
            if AfiSafi::of(&n.prefix).afi != Afi::IPV4 {
                return Err(EncodeError::PrefixFamily(n.prefix, AfiSafi::IPV4_UNICAST));
            }
        }
        let at = buf.len();
        buf.put_u16(0);
        for n in &self.withdrawn {
            n.encode(add_path, buf);
        }
        patch_len(buf, at)?;
        let at = buf.len();
        buf.put_u16(0);
        // RFC 7606 §5.1: the MP attributes go first.
        let mut value = BytesMut::new();
        if let Some(unreach) = &self.mp_unreach {
            mp::encode_unreach(unreach, caps, &mut value)?;
            put_attr(buf, flag::OPTIONAL, code::MP_UNREACH_NLRI, &value);
        }
        let next_hop = || {
            self.attributes
                .mp_next_hop
                .as_ref()
                .ok_or(EncodeError::MissingNextHop)
        };
        if let Some(reach) = &self.mp_reach {
            value.clear();
            mp::encode_reach(reach, next_hop()?, caps, &mut value)?;
            put_attr(buf, flag::OPTIONAL, code::MP_REACH_NLRI, &value);
        }
        if !self.evpn_unreach.is_empty() {
            value.clear();
            mp::encode_evpn_unreach(&self.evpn_unreach, &mut value);
            put_attr(buf, flag::OPTIONAL, code::MP_UNREACH_NLRI, &value);
        }
        if !self.evpn_reach.is_empty() {
            value.clear();
            mp::encode_evpn_reach(&self.evpn_reach, next_hop()?, &mut value)?;
            put_attr(buf, flag::OPTIONAL, code::MP_REACH_NLRI, &value);
        }
        self.attributes.encode(caps, buf);
        patch_len(buf, at)?;
        for n in &self.nlri {
            n.encode(add_path, buf);
        }
        Ok(())
    }
}

/// Write the length of what follows the 2-byte field at `at`.
fn patch_len(buf: &mut BytesMut, at: usize) -> Result<(), EncodeError> {
    let len = buf.len().saturating_sub(at + 2);
    let len16 = u16::try_from(len).map_err(|_| EncodeError::TooLong {
        len,
        max: usize::from(u16::MAX),
    })?;
    if let Some(field) = buf.get_mut(at..at + 2) {
        field.copy_from_slice(&len16.to_be_bytes());
    }
    Ok(())
}

/// Collects the RFC 7606 outcome while attributes are parsed.
#[derive(Default)]
struct Outcome {
    withdraw: Vec<AttributeIssue>,
    discarded: Vec<AttributeIssue>,
}

impl Outcome {
    fn apply(&mut self, action: ErrorAction, issue: AttributeIssue) {
        match action {
            ErrorAction::TreatAsWithdraw => self.withdraw.push(issue),
            // Session resets never reach here: MP attributes are handled
            // before; keep the strongest non-fatal action.
            ErrorAction::AttributeDiscard => self.discarded.push(issue),
            ErrorAction::SessionReset => self.withdraw.push(issue),
        }
    }
}

/// Decode an UPDATE body as received on a session with `caps`.
/// The three sections of an UPDATE body, split by their length fields
/// and not otherwise checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sections<'a> {
    pub withdrawn: &'a [u8],
    pub attributes: &'a [u8],
    pub nlri: &'a [u8],
}

impl<'a> Sections<'a> {
    /// `None` when a length field runs past the body (RFC 7606 §4: a
    /// session reset, which [`decode_update`] reports).
    pub fn split(body: &'a [u8]) -> Option<Self> {
        let (i, withdrawn_len) = wire::u16(body).ok()?;
        let (i, withdrawn) = wire::take(i, usize::from(withdrawn_len)).ok()?;
        let (i, attr_len) = wire::u16(i).ok()?;
        let (nlri, attributes) = wire::take(i, usize::from(attr_len)).ok()?;
        Some(Sections {
            withdrawn,
            attributes,
            nlri,
        })
    }
}

/// The routes of an UPDATE body that withdraws nothing and repeats
/// `attributes` (the path attributes of an UPDATE decoded before on the
/// same session), appended to `out`: its IPv4 NLRI when the attributes are
/// the same byte for byte, or the IPv4/IPv6 unicast routes of its
/// MP_REACH_NLRI when everything but those routes (and the attribute's
/// length) is the same. Such an UPDATE decodes to the same attributes and
/// the same RFC 7606 outcome as that one, so its routes can join it: peers
/// that send one prefix per UPDATE repeat the attributes in every message.
/// `false` (and `out` as it was) when the UPDATE does not qualify or its
/// routes are malformed: [`decode_update`] then decodes it whole and
/// reports any error.
pub fn repeated_nlri(
    body: &[u8],
    attributes: &[u8],
    caps: &SessionCaps,
    out: &mut Vec<Nlri>,
) -> bool {
    let Some(s) = Sections::split(body) else {
        return false;
    };
    if !s.withdrawn.is_empty() {
        return false;
    }
    let (family, routes) = if s.nlri.is_empty() {
        match repeated_mp_reach(s.attributes, attributes) {
            Some(found) => found,
            None => return false,
        }
    } else if s.attributes == attributes && AroundMpReach::find(attributes).is_none() {
        // (With an MP_REACH_NLRI too, it would carry routes of both kinds.)
        (AfiSafi::IPV4_UNICAST, s.nlri)
    } else {
        return false;
    };
    let before = out.len();
    let add_path = caps.add_path_rx(family);
    if routes.is_empty() || decode_prefixes_into(routes, family.afi, add_path, out).is_err() {
        out.truncate(before);
        return false;
    }
    true
}

/// An attribute section around its MP_REACH_NLRI attribute.
pub(crate) struct AroundMpReach<'a> {
    /// The attributes before it, and its flags and type code.
    pub before: &'a [u8],
    pub family: AfiSafi,
    /// Its value up to the routes: family, next hop, reserved octet.
    pub head: &'a [u8],
    pub routes: &'a [u8],
    /// The attributes after it.
    pub after: &'a [u8],
}

impl<'a> AroundMpReach<'a> {
    pub(crate) fn find(attributes: &'a [u8]) -> Option<Self> {
        let mut rest = attributes;
        while !rest.is_empty() {
            let at = attributes.len() - rest.len();
            let (i, flags) = wire::u8(rest).ok()?;
            let (i, type_code) = wire::u8(i).ok()?;
            let (i, len) = if flags & flag::EXTENDED_LENGTH != 0 {
                wire::u16(i).map(|(i, l)| (i, usize::from(l))).ok()?
            } else {
                wire::u8(i).map(|(i, l)| (i, usize::from(l))).ok()?
            };
            let (after, value) = wire::take(i, len).ok()?;
            if type_code == code::MP_REACH_NLRI {
                let (family, head, routes) = mp::split_reach(value)?;
                return Some(AroundMpReach {
                    before: attributes.get(..at + 2)?,
                    family,
                    head,
                    routes,
                    after,
                });
            }
            rest = after;
        }
        None
    }
}

/// The family and routes of the MP_REACH_NLRI in `attributes` when it is
/// IPv4 or IPv6 unicast and everything else equals `previous`.
fn repeated_mp_reach<'a>(attributes: &'a [u8], previous: &[u8]) -> Option<(AfiSafi, &'a [u8])> {
    let new = AroundMpReach::find(attributes)?;
    let old = AroundMpReach::find(previous)?;
    let unicast = [AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST].contains(&new.family);
    let same = new.before == old.before && new.head == old.head && new.after == old.after;
    (unicast && same).then_some((new.family, new.routes))
}

pub fn decode_update(body: &[u8], caps: &SessionCaps) -> Result<ParsedUpdate, UpdateError> {
    use UpdateSubcode::*;
    let Sections {
        withdrawn: withdrawn_bytes,
        attributes: attr_bytes,
        nlri: nlri_bytes,
    } = Sections::split(body)
        .ok_or_else(|| UpdateError::new(MalformedAttributeList, &[], UpdateErrorReason::Lengths))?;

    let ipv4_add_path = caps.add_path_rx(AfiSafi::IPV4_UNICAST);
    let withdrawn = decode_prefixes(withdrawn_bytes, Afi::IPV4, ipv4_add_path).map_err(|e| {
        UpdateError::new(
            InvalidNetworkField,
            &[],
            UpdateErrorReason::WithdrawnRoutes(e),
        )
    })?;

    let mut update = Update {
        withdrawn,
        ..Update::default()
    };
    let mut outcome = Outcome::default();
    let mut seen = [false; 256];
    decode_attributes(attr_bytes, caps, &mut update, &mut outcome, &mut seen)?;

    update.nlri = decode_prefixes(nlri_bytes, Afi::IPV4, ipv4_add_path)
        .map_err(|e| UpdateError::new(InvalidNetworkField, &[], UpdateErrorReason::Nlri(e)))?;

    // RFC 4760 §3: without classic NLRI the NEXT_HOP attribute is to be
    // ignored, so a malformed one costs only itself.
    if update.nlri.is_empty() {
        let (next_hop, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut outcome.withdraw)
            .into_iter()
            .partition(|i| i.type_code == code::NEXT_HOP);
        outcome.withdraw = rest;
        outcome.discarded.extend(next_hop);
    }

    // RFC 7606 §3(d): missing well-known mandatory attributes, only when
    // there is something to install. An attribute that was present but
    // malformed is already reported.
    let has_mp_nlri = update.mp_reach.as_ref().is_some_and(|m| !m.nlri.is_empty())
        || !update.evpn_reach.is_empty();
    if !update.nlri.is_empty() || has_mp_nlri {
        let mut required = vec![code::ORIGIN, code::AS_PATH];
        if !update.nlri.is_empty() {
            required.push(code::NEXT_HOP);
        }
        for type_code in required {
            if !seen.get(usize::from(type_code)).copied().unwrap_or(false) {
                outcome.withdraw.push(AttributeIssue {
                    type_code,
                    problem: Problem::Missing,
                });
            }
        }
    }

    let action = if outcome.withdraw.is_empty() {
        UpdateAction::Normal
    } else {
        UpdateAction::TreatAsWithdraw {
            reasons: outcome.withdraw,
        }
    };
    Ok(ParsedUpdate {
        update,
        report: UpdateReport {
            action,
            discarded: outcome.discarded,
        },
    })
}

fn decode_attributes(
    mut rest: &[u8],
    caps: &SessionCaps,
    update: &mut Update,
    outcome: &mut Outcome,
    seen: &mut [bool; 256],
) -> Result<(), UpdateError> {
    use UpdateSubcode::*;
    while !rest.is_empty() {
        let start = rest;
        // RFC 7606 §4: too few octets for an attribute header, or a
        // length that overruns: treat-as-withdraw, stop parsing; the Total
        // Path Attribute Length still locates the NLRI.
        let Ok((r, flags)) = wire::u8(rest) else {
            break;
        };
        let Ok((r, type_code)) = wire::u8(r) else {
            outcome.withdraw.push(overrun(0));
            break;
        };
        let len = if flags & flag::EXTENDED_LENGTH != 0 {
            wire::u16(r).map(|(r, l)| (r, usize::from(l)))
        } else {
            wire::u8(r).map(|(r, l)| (r, usize::from(l)))
        };
        let Ok((r, len)) = len else {
            outcome.withdraw.push(overrun(type_code));
            break;
        };
        let is_mp = matches!(type_code, code::MP_REACH_NLRI | code::MP_UNREACH_NLRI);
        let Ok((r, value)) = wire::take(r, len) else {
            if is_mp {
                return Err(UpdateError::new(
                    MalformedAttributeList,
                    start,
                    UpdateErrorReason::MpOverrun(type_code),
                ));
            }
            outcome.withdraw.push(overrun(type_code));
            break;
        };
        let whole = start.get(..start.len() - r.len()).unwrap_or_default();
        rest = r;

        let slot = &mut seen[usize::from(type_code)];
        if *slot {
            if is_mp {
                return Err(UpdateError::new(
                    MalformedAttributeList,
                    &[],
                    UpdateErrorReason::MpDuplicate(type_code),
                ));
            }
            outcome.discarded.push(AttributeIssue {
                type_code,
                problem: Problem::Duplicate,
            });
            continue;
        }
        *slot = true;

        if !flags_ok(type_code, flags) {
            if is_mp {
                return Err(UpdateError::new(
                    AttributeFlagsError,
                    whole,
                    UpdateErrorReason::MpFlags { type_code, flags },
                ));
            }
            let issue = AttributeIssue {
                type_code,
                problem: Problem::Flags(flags),
            };
            outcome.apply(malformed_action(type_code), issue);
            continue;
        }

        let mp_error = |error| {
            UpdateError::new(
                OptionalAttributeError,
                whole,
                UpdateErrorReason::Mp { type_code, error },
            )
        };
        let unsupported = |family| AttributeIssue {
            type_code,
            problem: Problem::UnsupportedFamily(family),
        };
        match type_code {
            code::MP_REACH_NLRI => match mp::decode_reach(value, caps).map_err(mp_error)? {
                Mp::Known((reach, next_hop)) => {
                    update.mp_reach = Some(reach);
                    update.attributes.mp_next_hop = Some(next_hop);
                }
                Mp::Evpn(routes, next_hop) => {
                    update.evpn_reach = routes;
                    update.attributes.mp_next_hop = next_hop;
                }
                Mp::Unsupported(family) => outcome.discarded.push(unsupported(family)),
            },
            code::MP_UNREACH_NLRI => match mp::decode_unreach(value, caps).map_err(mp_error)? {
                Mp::Known(unreach) => update.mp_unreach = Some(unreach),
                Mp::Evpn(routes, _) => update.evpn_unreach = routes,
                Mp::Unsupported(family) => outcome.discarded.push(unsupported(family)),
            },
            _ => match update.attributes.decode_known(type_code, value, caps) {
                Ok(true) => {}
                Ok(false) if flags & flag::OPTIONAL == 0 => {
                    return Err(UpdateError::new(
                        UnrecognizedWellKnownAttribute,
                        whole,
                        UpdateErrorReason::UnrecognizedWellKnown(type_code),
                    ));
                }
                Ok(false) => update.attributes.unknown.push(super::RawAttribute {
                    flags: flags & (flag::OPTIONAL | flag::TRANSITIVE | flag::PARTIAL),
                    type_code,
                    value: value.to_vec(),
                }),
                Err(problem) => outcome.apply(
                    malformed_action(type_code),
                    AttributeIssue { type_code, problem },
                ),
            },
        }
    }
    Ok(())
}

fn overrun(type_code: u8) -> AttributeIssue {
    AttributeIssue {
        type_code,
        problem: Problem::Overrun,
    }
}

#[cfg(test)]
mod tests;
