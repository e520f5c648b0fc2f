//! The interactive shell: a prompt with the hostname, line editing and
//! persistent history (rustyline), tab completion of command words and of
//! live values (neighbors, interfaces, VNIs, services, route maps and lists,
//! from [`crate::live`]), `?` listing the possible next words, and output
//! filters (`| include REGEX`, `| exclude REGEX`, `| count`).
//!
//! The word tree here is the one place that lists what can follow what; the
//! parser in `command` decides what a line means.

use std::sync::{Arc, Mutex};

use regex::Regex;
use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};

use crate::configure::{self, Mode};
use crate::live::{Live, Values};

/// (word, help, children). A word in angle brackets is a value, not a
/// keyword; `live` says which running values it takes.
pub struct Node {
    pub word: &'static str,
    pub help: &'static str,
    pub next: &'static [Node],
    pub live: Option<Live>,
}

const fn n(word: &'static str, help: &'static str, next: &'static [Node]) -> Node {
    Node {
        word,
        help,
        next,
        live: None,
    }
}

/// A value node whose values come from the daemons.
const fn v(word: &'static str, help: &'static str, live: Live, next: &'static [Node]) -> Node {
    Node {
        word,
        help,
        next,
        live: Some(live),
    }
}

const JSON: Node = n("json", "JSON output", &[]);
const ROUTE_ARGS: &[Node] = &[
    n("table", "a kernel table", &[n("<N>", "table id", &[JSON])]),
    n(
        "<PREFIX|ADDRESS>",
        "one prefix, or the longest match of an address",
        &[JSON],
    ),
    JSON,
];
const BGP_FAMILY_ARGS: &[Node] = &[n(
    "unicast",
    "unicast routes",
    &[
        n("<PREFIX>", "one prefix in detail", &[JSON]),
        n("summary", "neighbors of this family", &[JSON]),
        JSON,
    ],
)];
const BGP_ARGS: &[Node] = &[
    n("summary", "neighbors, state and prefix counts", &[JSON]),
    n(
        "neighbors",
        "neighbor details",
        &[
            v(
                "<ADDRESS>",
                "one neighbor",
                Live::Neighbor,
                &[
                    n("received-routes", "its Adj-RIB-In", &[JSON]),
                    n("advertised-routes", "its Adj-RIB-Out", &[JSON]),
                    JSON,
                ],
            ),
            JSON,
        ],
    ),
    n("ipv4", "IPv4", BGP_FAMILY_ARGS),
    n("ipv6", "IPv6", BGP_FAMILY_ARGS),
    n(
        "as-path-access-list",
        "AS-path access lists",
        &[v("<NAME>", "one list", Live::AsPathList, &[JSON]), JSON],
    ),
    n(
        "community-list",
        "community lists",
        &[v("<NAME>", "one list", Live::CommunityList, &[JSON]), JSON],
    ),
    n(
        "large-community-list",
        "large community lists",
        &[v("<NAME>", "one list", Live::CommunityList, &[JSON]), JSON],
    ),
    n(
        "extcommunity-list",
        "extended community lists",
        &[v("<NAME>", "one list", Live::CommunityList, &[JSON]), JSON],
    ),
    JSON,
];

const PREFIX_LIST_ARGS: &[Node] = &[
    n(
        "detail",
        "with hit counts",
        &[v("<NAME>", "one list", Live::PrefixList, &[JSON]), JSON],
    ),
    v("<NAME>", "one list", Live::PrefixList, &[JSON]),
    JSON,
];

const LSA_TYPES: &[Node] = &[n("detail", "every LSA in full", &[JSON]), JSON];
const OSPF_ARGS: &[Node] = &[
    n(
        "interface",
        "OSPF interfaces",
        &[v("<NAME>", "one interface", Live::Interface, &[JSON]), JSON],
    ),
    n("neighbor", "OSPF neighbors", &[JSON]),
    n(
        "database",
        "the link-state database",
        &[
            n("router", "router LSAs", LSA_TYPES),
            n("network", "network LSAs", LSA_TYPES),
            n("summary", "summary LSAs", LSA_TYPES),
            n("asbr-summary", "ASBR summary LSAs", LSA_TYPES),
            n("external", "AS-external LSAs", LSA_TYPES),
            n("detail", "every LSA in full", &[JSON]),
            JSON,
        ],
    ),
    n("route", "routes computed by SPF", &[JSON]),
    JSON,
];

const CLEAR_BGP_ARGS: &[Node] = &[
    n(
        "*",
        "every neighbor",
        &[n(
            "soft",
            "refresh routes, keep the session",
            &[
                n("in", "ask for the routes again", &[]),
                n("out", "send ours again", &[]),
            ],
        )],
    ),
    v(
        "<ADDRESS>",
        "one neighbor",
        Live::Neighbor,
        &[n(
            "soft",
            "refresh routes, keep the session",
            &[
                n("in", "ask for the routes again", &[]),
                n("out", "send ours again", &[]),
            ],
        )],
    ),
];

const CLEAR_PREFIX_LIST_ARGS: &[Node] = &[v(
    "<NAME>",
    "one list",
    Live::PrefixList,
    &[n("<PREFIX>", "the entries covering it", &[])],
)];

/// The command words.
pub const TREE: &[Node] = &[
    n(
        "show",
        "show running state",
        &[
            n(
                "ip",
                "IPv4",
                &[
                    n("route", "the IPv4 RIB", ROUTE_ARGS),
                    n("rule", "policy-routing rules", &[JSON]),
                    n("bgp", "BGP (IPv4 unicast)", BGP_ARGS),
                    n("ospf", "OSPF", OSPF_ARGS),
                    n("prefix-list", "bgpd's prefix lists", PREFIX_LIST_ARGS),
                ],
            ),
            n(
                "ipv6",
                "IPv6",
                &[
                    n("route", "the IPv6 RIB", ROUTE_ARGS),
                    n("prefix-list", "bgpd's prefix lists", PREFIX_LIST_ARGS),
                ],
            ),
            n(
                "route-map",
                "bgpd's route maps",
                &[v("<NAME>", "one route map", Live::RouteMap, &[JSON]), JSON],
            ),
            n(
                "interface",
                "interfaces",
                &[v("<NAME>", "one interface", Live::Interface, &[JSON]), JSON],
            ),
            n("zebra", "RIB manager status and clients", &[JSON]),
            n("version", "vtysh's and the daemons' versions", &[JSON]),
            n(
                "daemons",
                "which daemons are deployed and up, since when, their sockets",
                &[JSON],
            ),
            n(
                "anycast",
                "anycast services",
                &[
                    n("services", "every service", &[JSON]),
                    n(
                        "service",
                        "one service",
                        &[v("<NAME>", "its name", Live::Service, &[JSON])],
                    ),
                ],
            ),
            n("bgp", "BGP", BGP_ARGS),
            n(
                "evpn",
                "VXLAN/EVPN state of zebrad",
                &[
                    n(
                        "vni",
                        "every VNI",
                        &[v("<VNI>", "one VNI", Live::Vni, &[JSON]), JSON],
                    ),
                    n(
                        "mac",
                        "MACs",
                        &[n(
                            "vni",
                            "of a VNI",
                            &[v("<VNI>", "its number", Live::Vni, &[JSON])],
                        )],
                    ),
                    n(
                        "arp-cache",
                        "neighbors (ARP/ND)",
                        &[n(
                            "vni",
                            "of a VNI",
                            &[v("<VNI>", "its number", Live::Vni, &[JSON])],
                        )],
                    ),
                ],
            ),
        ],
    ),
    n(
        "clear",
        "reset",
        &[
            n(
                "evpn",
                "EVPN state",
                &[n(
                    "dup-addr",
                    "advertise frozen duplicate MACs again",
                    &[n(
                        "vni",
                        "of a VNI",
                        &[
                            n("all", "every VNI", &[]),
                            v(
                                "<VNI>",
                                "one VNI",
                                Live::Vni,
                                &[n("mac", "one MAC", &[n("<MAC>", "its address", &[])])],
                            ),
                        ],
                    )],
                )],
            ),
            n("bgp", "BGP sessions", CLEAR_BGP_ARGS),
            n(
                "route-map",
                "route maps",
                &[n(
                    "counter",
                    "reset the invocation counts",
                    &[v("<NAME>", "one route map", Live::RouteMap, &[])],
                )],
            ),
            n(
                "ip",
                "IPv4",
                &[
                    n(
                        "prefix-list",
                        "reset the hit counts",
                        CLEAR_PREFIX_LIST_ARGS,
                    ),
                    n("bgp", "BGP sessions (clear bgp)", CLEAR_BGP_ARGS),
                ],
            ),
            n(
                "ipv6",
                "IPv6",
                &[n(
                    "prefix-list",
                    "reset the hit counts",
                    CLEAR_PREFIX_LIST_ARGS,
                )],
            ),
        ],
    ),
    n(
        "anycast",
        "act on anycast services",
        &[
            n(
                "drain",
                "advertise with GRACEFUL_SHUTDOWN, then withdraw",
                &[v("<NAME>", "the service", Live::Service, &[JSON])],
            ),
            n(
                "undrain",
                "bring a drained service back",
                &[v("<NAME>", "the service", Live::Service, &[JSON])],
            ),
        ],
    ),
    n("configure", "configure mode", &[n("terminal", "", &[])]),
    n(
        "write",
        "save the running configuration",
        &[n("memory", "to the deployed daemons' files", &[])],
    ),
    n("help", "list the commands", &[]),
    n("exit", "leave the shell", &[]),
    n("quit", "leave the shell", &[]),
];

/// The nodes that can follow `words` (abbreviations allowed), or None if
/// the words do not fit the tree.
pub fn next_nodes(words: &[&str]) -> Option<&'static [Node]> {
    let mut level: &'static [Node] = TREE;
    for w in words {
        let lw = w.to_ascii_lowercase();
        let exact = level.iter().find(|n| n.word == lw);
        let hit = match exact {
            Some(e) => Some(e),
            None => {
                let kws: Vec<&Node> = level
                    .iter()
                    .filter(|n| !n.word.starts_with('<') && n.word.starts_with(&lw))
                    .collect();
                match kws.as_slice() {
                    [one] => Some(*one),
                    [] => level.iter().find(|n| n.word.starts_with('<')),
                    _ => None,
                }
            }
        };
        level = hit?.next;
    }
    Some(level)
}

/// What may come next in a configure mode: keywords with their help, and
/// the kinds of live values the grammar takes there.
pub struct ConfigNext {
    pub words: &'static [(&'static str, &'static str)],
    pub live: &'static [Live],
}

const IN_OUT: &[(&str, &str)] = &[("in", "inbound"), ("out", "outbound")];
const ORIGINS: &[(&str, &str)] = &[("igp", "IGP"), ("egp", "EGP"), ("incomplete", "incomplete")];

/// The configure-mode words that can follow `words` (`do` leads back to
/// the exec tree), or None when the exec tree applies.
pub fn config_next(mode: &Mode, words: &[&str]) -> Option<ConfigNext> {
    if *mode == Mode::Exec || words.first().is_some_and(|w| w.eq_ignore_ascii_case("do")) {
        return None;
    }
    let words = match words.first() {
        Some(w) if w.eq_ignore_ascii_case("no") => &words[1..],
        _ => words,
    };
    // Word `i` abbreviates `full`.
    let is = |i: usize, full: &str| {
        words
            .get(i)
            .is_some_and(|w| !w.is_empty() && full.starts_with(&w.to_ascii_lowercase()))
    };
    let next = |words: &'static [(&'static str, &'static str)]| ConfigNext { words, live: &[] };
    let live = |live: &'static [Live]| ConfigNext { words: &[], live };
    let bgp = matches!(mode, Mode::RouterBgp | Mode::BgpFamily(_));
    let nb = bgp && is(0, "neighbor");
    Some(match (mode, words.len()) {
        (_, 0) => next(configure::words(mode)),
        (Mode::Config, 1) if is(0, "interface") => live(&[Live::Interface]),
        (Mode::Config, 1) if is(0, "route-map") => live(&[Live::RouteMap]),
        (Mode::Config, 2) if is(0, "route-map") => next(&[
            ("permit", "apply the sets when the matches hold"),
            ("deny", "reject when the matches hold"),
        ]),
        (Mode::Config, 1) if is(0, "anycast") => {
            next(&[("service", "anycast service NAME: one of zebrad's services")])
        }
        (Mode::Config, 2) if is(0, "anycast") && is(1, "service") => live(&[Live::Service]),
        (Mode::Config, 1) if is(0, "bgp") => next(configure::policy::BGP_LIST_WORDS),
        (Mode::Config, 1) if is(0, "ipv6") || is(0, "ip") => next(&[
            ("route", "a static route"),
            ("prefix-list", "an entry of a prefix list"),
        ]),
        (Mode::Config, 2) if (is(0, "ipv6") || is(0, "ip")) && is(1, "prefix-list") => {
            live(&[Live::PrefixList])
        }
        (_, 2) if bgp && !nb && is(0, "network") => {
            next(&[("route-map", "route-map NAME: the network's route map")])
        }
        (_, 3) if bgp && !nb && is(0, "network") && is(2, "route-map") => live(&[Live::RouteMap]),
        (_, 1) if nb => live(&[Live::Neighbor, Live::PeerGroup]),
        (_, 2) if nb => next(configure::NEIGHBOR_WORDS),
        (_, 3) if nb && is(2, "route-map") => live(&[Live::RouteMap]),
        (_, 3) if nb && is(2, "prefix-list") => live(&[Live::PrefixList]),
        (_, 3) if nb && is(2, "peer-group") => live(&[Live::PeerGroup]),
        (_, 4) if nb && (is(2, "route-map") || is(2, "prefix-list")) => next(IN_OUT),
        (Mode::RouterOspf, 1) if is(0, "passive-interface") => live(&[Live::Interface]),
        (Mode::RouteMap { .. }, 1) if is(0, "match") => next(configure::policy::MATCH_WORDS),
        (Mode::RouteMap { .. }, 1) if is(0, "set") => next(configure::policy::SET_WORDS),
        (Mode::RouteMap { .. }, 1) if is(0, "on-match") => next(&[
            ("next", "go on with the next entry"),
            ("goto", "goto SEQ: go on with entry SEQ"),
        ]),
        (Mode::RouteMap { .. }, 2) if is(0, "match") => {
            if is(1, "ipv6") || is(1, "ip") {
                next(&[
                    ("address", "address prefix-list NAME"),
                    ("next-hop", "next-hop prefix-list NAME"),
                ])
            } else if is(1, "as-path") {
                live(&[Live::AsPathList])
            } else if is(1, "community") || is(1, "large-community") || is(1, "extcommunity") {
                live(&[Live::CommunityList])
            } else if is(1, "peer") {
                live(&[Live::Neighbor])
            } else if is(1, "origin") {
                next(ORIGINS)
            } else {
                next(&[])
            }
        }
        (Mode::RouteMap { .. }, 2) if is(0, "set") => {
            if is(1, "comm-list") {
                live(&[Live::CommunityList])
            } else if is(1, "origin") {
                next(ORIGINS)
            } else if is(1, "extcommunity") {
                next(&[("rt", "route targets"), ("soo", "sites of origin")])
            } else if is(1, "as-path") {
                next(&[("prepend", "prepend ASN..."), ("exclude", "exclude ASN...")])
            } else {
                next(&[])
            }
        }
        (Mode::RouteMap { .. }, 3) if is(0, "match") && (is(1, "ipv6") || is(1, "ip")) => {
            next(&[("prefix-list", "prefix-list NAME")])
        }
        (Mode::RouteMap { .. }, 4) if is(0, "match") && is(3, "prefix-list") => {
            live(&[Live::PrefixList])
        }
        (Mode::AnycastService(_), 1) if is(0, "interface") => live(&[Live::Interface]),
        (Mode::AnycastService(_), 1) if is(0, "check") => next(&[
            ("tcp", "tcp ADDRESS:PORT"),
            ("http", "http URL [status N] [body TEXT] [host NAME]"),
            (
                "https",
                "https URL [status N] [body TEXT] [host NAME] [ca-file F] [insecure]",
            ),
            ("icmp", "icmp ADDRESS"),
            ("dns", "dns SERVER:PORT NAME [qtype T] [rcode R]"),
            ("command", "command CMD..."),
        ]),
        _ => next(&[]),
    })
}

/// The live values of `kinds` that start with `prefix`, with their help.
fn live_values(
    values: Option<&Values>,
    kinds: &[Live],
    prefix: &str,
) -> Vec<(String, &'static str)> {
    let Some(values) = values else {
        return Vec::new();
    };
    kinds
        .iter()
        .flat_map(|k| {
            values
                .get(*k)
                .into_iter()
                .filter(|v| v.starts_with(prefix))
                .map(move |v| (v, k.help()))
        })
        .collect()
}

/// `?` help: the possible next words with their help, and the live values
/// (from `values`) where the grammar takes one.
pub fn help_for(mode: &Mode, line: &str, values: Option<&Values>) -> String {
    let trimmed = line.trim_end_matches('?');
    let all: Vec<&str> = trimmed.split_whitespace().collect();
    let partial = !trimmed.ends_with(' ') && !trimmed.is_empty();
    if let Some(next) = config_next(mode, &all[..all.len().saturating_sub(usize::from(partial))]) {
        let prefix = if partial {
            all.last().copied().unwrap_or("")
        } else {
            ""
        };
        let mut out = String::new();
        for (w, h) in next.words.iter().filter(|(w, _)| w.starts_with(prefix)) {
            out.push_str(&format!("  {w:<22} {h}\n"));
        }
        for (v, h) in live_values(values, next.live, prefix) {
            out.push_str(&format!("  {v:<22} {h}\n"));
        }
        if out.is_empty() {
            // Past the first words: the command's syntax line.
            let first = all.iter().find(|w| !w.eq_ignore_ascii_case("no"));
            if let Some((w, h)) = first.and_then(|f| {
                configure::words(mode)
                    .iter()
                    .find(|(w, _)| w.starts_with(&f.to_ascii_lowercase()))
            }) {
                out.push_str(&format!("  {w:<22} {h}\n"));
            }
            out.push_str("  <cr>\n");
        }
        return out;
    }
    let trimmed = match all.first() {
        Some(w) if w.eq_ignore_ascii_case("do") => trimmed.trim_start()[2..].trim_start(),
        _ => trimmed,
    };
    let words: Vec<&str> = trimmed.split_whitespace().collect();
    let (done, prefix) = if partial {
        (
            &words[..words.len() - 1],
            words.last().copied().unwrap_or(""),
        )
    } else {
        (&words[..], "")
    };
    let Some(level) = next_nodes(done) else {
        return "% There is no matched command.\n".into();
    };
    let mut out = String::new();
    for node in level
        .iter()
        .filter(|n| n.word.starts_with(prefix) || n.word.starts_with('<'))
    {
        out.push_str(&format!("  {:<22} {}\n", node.word, node.help));
    }
    let kinds: Vec<Live> = level.iter().filter_map(|n| n.live).collect();
    for (v, h) in live_values(values, &kinds, prefix) {
        out.push_str(&format!("  {v:<22} {h}\n"));
    }
    // Every complete command takes `json`: where it may follow, so may <cr>.
    if level.is_empty() || (!partial && level.iter().any(|n| n.word == "json")) {
        out.push_str("  <cr>\n");
    }
    out
}

/// An output filter after `|`.
#[derive(Debug)]
pub enum Filter {
    Include(Regex),
    Exclude(Regex),
    Count,
}

/// Splits `cmd | include X | count` into the command and its filters.
pub fn split_filters(line: &str) -> Result<(String, Vec<Filter>), String> {
    let mut parts = line.split('|');
    let cmd = parts.next().unwrap_or("").trim().to_string();
    let mut filters = Vec::new();
    for p in parts {
        let p = p.trim();
        let (word, arg) = p
            .split_once(' ')
            .map(|(a, b)| (a, b.trim()))
            .unwrap_or((p, ""));
        let f = match word {
            w if "include".starts_with(w) && !w.is_empty() => Filter::Include(
                Regex::new(arg).map_err(|e| format!("% Bad regular expression: {e}"))?,
            ),
            w if "exclude".starts_with(w) && !w.is_empty() => Filter::Exclude(
                Regex::new(arg).map_err(|e| format!("% Bad regular expression: {e}"))?,
            ),
            w if "count".starts_with(w) && !w.is_empty() => Filter::Count,
            _ => return Err(format!("% Unknown filter `{p}` (include, exclude, count)")),
        };
        filters.push(f);
    }
    Ok((cmd, filters))
}

/// Applies the filters to a command's output.
pub fn apply_filters(text: String, filters: &[Filter]) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    let mut count = None;
    for f in filters {
        match f {
            Filter::Include(r) => lines.retain(|l| r.is_match(l)),
            Filter::Exclude(r) => lines.retain(|l| !r.is_match(l)),
            Filter::Count => count = Some(lines.len()),
        }
    }
    match count {
        Some(n) => format!("Count: {n} lines\n"),
        None if lines.is_empty() => String::new(),
        None => lines.join("\n") + "\n",
    }
}

/// `?` typed at the prompt: FRR's immediate help. The line up to the cursor
/// (and what follows it) is kept here and the line is accepted, so the loop
/// prints the help and offers the same line again. Inside a filter (`| ...`)
/// `?` is a plain character, as regular expressions need it.
#[derive(Clone, Default)]
pub struct QuestionMark(pub std::sync::Arc<std::sync::Mutex<Option<(String, String)>>>);

impl QuestionMark {
    /// The (before cursor, after cursor) parts of the line where `?` was
    /// typed, if it was.
    pub fn take(&self) -> Option<(String, String)> {
        self.0.lock().ok().and_then(|mut q| q.take())
    }
}

impl rustyline::ConditionalEventHandler for QuestionMark {
    fn handle(
        &self,
        _: &rustyline::Event,
        _: rustyline::RepeatCount,
        _: bool,
        ctx: &rustyline::EventContext<'_>,
    ) -> Option<rustyline::Cmd> {
        let line = ctx.line();
        let pos = ctx.pos().min(line.len());
        if line.contains('|') || !line.is_char_boundary(pos) {
            return None;
        }
        let mut q = self.0.lock().ok()?;
        *q = Some((line[..pos].to_string(), line[pos..].to_string()));
        Some(rustyline::Cmd::AcceptLine)
    }
}

/// rustyline's helper: completion from the word tree of the current mode
/// and the daemons' live values.
pub struct ShellHelper {
    pub mode: Arc<Mutex<Mode>>,
    pub values: Arc<Values>,
}

fn pair(w: &str) -> Pair {
    Pair {
        display: w.to_string(),
        replacement: format!("{w} "),
    }
}

impl Completer for ShellHelper {
    type Candidate = Pair;
    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let head = &line[..pos];
        let start = head.rfind(' ').map(|i| i + 1).unwrap_or(0);
        let mut words: Vec<&str> = head[..start].split_whitespace().collect();
        let prefix = &head[start..];
        let mode = self.mode.lock().map(|m| m.clone()).unwrap_or_default();
        if let Some(next) = config_next(&mode, &words) {
            let mut pairs: Vec<Pair> = next
                .words
                .iter()
                .filter(|(w, _)| w.starts_with(prefix))
                .map(|(w, _)| pair(w))
                .collect();
            pairs.extend(
                live_values(Some(&self.values), next.live, prefix)
                    .iter()
                    .map(|(v, _)| pair(v)),
            );
            return Ok((start, pairs));
        }
        if mode != Mode::Exec {
            words.remove(0);
        }
        let Some(level) = next_nodes(&words) else {
            return Ok((start, Vec::new()));
        };
        let mut pairs: Vec<Pair> = level
            .iter()
            .filter(|n| !n.word.starts_with('<') && n.word.starts_with(prefix))
            .map(|n| pair(n.word))
            .collect();
        let kinds: Vec<Live> = level.iter().filter_map(|n| n.live).collect();
        pairs.extend(
            live_values(Some(&self.values), &kinds, prefix)
                .iter()
                .map(|(v, _)| pair(v)),
        );
        Ok((start, pairs))
    }
}

impl Hinter for ShellHelper {
    type Hint = String;
}
impl Highlighter for ShellHelper {}
impl Validator for ShellHelper {}
impl Helper for ShellHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_walks_abbreviations_and_values() {
        assert!(next_nodes(&["sh", "ip", "ro"]).is_some());
        let after_nb = next_nodes(&["show", "bgp", "neighbors", "192.0.2.2"]).unwrap();
        assert!(after_nb.iter().any(|n| n.word == "received-routes"));
        assert!(next_nodes(&["show", "bogus"]).is_none());
        // "show i" is ambiguous between ip, ipv6 and interface.
        assert!(next_nodes(&["show", "i"]).is_none());
    }

    #[test]
    fn question_mark_lists_next_words() {
        let h = help_for(&Mode::Exec, "show ?", None);
        assert!(
            h.contains("ip") && h.contains("interface") && h.contains("bgp"),
            "{h}"
        );
        let h = help_for(&Mode::Exec, "show i?", None);
        assert!(h.contains("interface") && !h.contains("zebra"), "{h}");
        assert!(help_for(&Mode::Exec, "show nonsense ?", None).contains("no matched command"));
        let h = help_for(&Mode::Exec, "show ?", None);
        assert!(h.contains("version") && h.contains("daemons"), "{h}");
        let h = help_for(&Mode::Exec, "show daemons ?", None);
        assert!(h.contains("json") && h.contains("<cr>"), "{h}");
    }

    #[test]
    fn configure_words_and_value_kinds() {
        let words = |m: &Mode, w: &[&str]| -> Vec<&str> {
            config_next(m, w)
                .unwrap()
                .words
                .iter()
                .map(|(w, _)| *w)
                .collect()
        };
        let live = |m: &Mode, w: &[&str]| config_next(m, w).unwrap().live.to_vec();
        let bgp = Mode::RouterBgp;
        assert!(config_next(&Mode::Exec, &[]).is_none());
        assert!(config_next(&bgp, &["do", "show"]).is_none());
        assert!(words(&bgp, &[]).contains(&"neighbor"));
        assert_eq!(live(&bgp, &["nei"]), vec![Live::Neighbor, Live::PeerGroup]);
        assert!(words(&bgp, &["neighbor", "192.0.2.2"]).contains(&"route-map"));
        assert_eq!(
            live(&bgp, &["no", "neighbor", "192.0.2.2", "route-map"]),
            vec![Live::RouteMap]
        );
        assert_eq!(
            live(&bgp, &["neighbor", "192.0.2.2", "prefix-list"]),
            vec![Live::PrefixList]
        );
        assert_eq!(
            words(&bgp, &["neighbor", "192.0.2.2", "route-map", "X"]),
            vec!["in", "out"]
        );
        let c = Mode::Config;
        assert_eq!(live(&c, &["interface"]), vec![Live::Interface]);
        assert_eq!(live(&c, &["anycast", "service"]), vec![Live::Service]);
        assert_eq!(live(&c, &["ip", "prefix-list"]), vec![Live::PrefixList]);
        assert!(words(&c, &["bgp"]).contains(&"community-list"));
        let rm = Mode::RouteMap {
            name: "X".into(),
            seq: 10,
        };
        assert!(words(&rm, &["match"]).contains(&"as-path"));
        assert_eq!(live(&rm, &["match", "as-path"]), vec![Live::AsPathList]);
        assert_eq!(
            live(&rm, &["match", "ip", "address", "prefix-list"]),
            vec![Live::PrefixList]
        );
        assert_eq!(live(&rm, &["set", "comm-list"]), vec![Live::CommunityList]);
        assert_eq!(
            live(&Mode::RouterOspf, &["passive-interface"]),
            vec![Live::Interface]
        );
        // The exec tree names the value kinds.
        let nb = next_nodes(&["show", "bgp", "neighbors"]).unwrap();
        assert!(nb.iter().any(|n| n.live == Some(Live::Neighbor)));
        let vni = next_nodes(&["show", "evpn", "vni"]).unwrap();
        assert!(vni.iter().any(|n| n.live == Some(Live::Vni)));
        let dup = next_nodes(&["clear", "evpn", "dup-addr", "vni"]).unwrap();
        assert!(dup.iter().any(|n| n.live == Some(Live::Vni)));
        assert!(next_nodes(&["clear", "bgp", "192.0.2.2", "soft"]).is_some());
        let svc = next_nodes(&["anycast", "drain"]).unwrap();
        assert!(svc.iter().any(|n| n.live == Some(Live::Service)));
        // The policy show commands complete the running names.
        for (words, kind) in [
            (&["show", "route-map"][..], Live::RouteMap),
            (&["show", "ip", "prefix-list"][..], Live::PrefixList),
            (&["clear", "route-map", "counter"][..], Live::RouteMap),
            (&["clear", "ipv6", "prefix-list"][..], Live::PrefixList),
            (&["clear", "ip", "bgp"][..], Live::Neighbor),
            (
                &["show", "ipv6", "prefix-list", "detail"][..],
                Live::PrefixList,
            ),
            (
                &["show", "bgp", "as-path-access-list"][..],
                Live::AsPathList,
            ),
            (
                &["show", "bgp", "large-community-list"][..],
                Live::CommunityList,
            ),
            (
                &["show", "ip", "bgp", "extcommunity-list"][..],
                Live::CommunityList,
            ),
        ] {
            let next = next_nodes(words).unwrap();
            assert!(next.iter().any(|n| n.live == Some(kind)), "{words:?}");
        }
    }

    #[test]
    fn filters() {
        let (cmd, f) = split_filters("show ip route | include 203\\. | count").unwrap();
        assert_eq!(cmd, "show ip route");
        let out = apply_filters("a 203.0.113.0\nb 198.51.100.0\nc 203.0.113.1\n".into(), &f);
        assert_eq!(out, "Count: 2 lines\n");
        let (_, f) = split_filters("x | exclude ^b").unwrap();
        assert_eq!(apply_filters("a\nb\nc\n".into(), &f), "a\nc\n");
        assert!(split_filters("x | grep y").is_err());
        assert!(split_filters("x | include (").is_err());
    }
}
