//! The interactive shell: a prompt with the hostname, line editing and
//! persistent history (rustyline), tab completion of command words, `?`
//! listing the possible next words, and output filters
//! (`| include REGEX`, `| exclude REGEX`, `| count`).
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

/// (word, help, children). A word in angle brackets is a value, not a keyword.
pub struct Node {
    pub word: &'static str,
    pub help: &'static str,
    pub next: &'static [Node],
}

const fn n(word: &'static str, help: &'static str, next: &'static [Node]) -> Node {
    Node { word, help, next }
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
            n(
                "<ADDRESS>",
                "one neighbor",
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
    JSON,
];

const LSA_TYPES: &[Node] = &[n("detail", "every LSA in full", &[JSON]), JSON];
const OSPF_ARGS: &[Node] = &[
    n(
        "interface",
        "OSPF interfaces",
        &[n("<NAME>", "one interface", &[JSON]), JSON],
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
                ],
            ),
            n("ipv6", "IPv6", &[n("route", "the IPv6 RIB", ROUTE_ARGS)]),
            n(
                "interface",
                "interfaces",
                &[n("<NAME>", "one interface", &[JSON]), JSON],
            ),
            n("zebra", "RIB manager status and clients", &[JSON]),
            n("version", "vtysh's and the daemons' versions", &[JSON]),
            n(
                "daemons",
                "which daemons are up, since when, their sockets",
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
                        &[n("<NAME>", "its name", &[JSON])],
                    ),
                ],
            ),
            n("bgp", "BGP", BGP_ARGS),
            n(
                "evpn",
                "VXLAN/EVPN state of zebrad",
                &[
                    n("vni", "every VNI", &[n("<VNI>", "one VNI", &[JSON]), JSON]),
                    n(
                        "mac",
                        "MACs",
                        &[n("vni", "of a VNI", &[n("<VNI>", "its number", &[JSON])])],
                    ),
                    n(
                        "arp-cache",
                        "neighbors (ARP/ND)",
                        &[n("vni", "of a VNI", &[n("<VNI>", "its number", &[JSON])])],
                    ),
                ],
            ),
        ],
    ),
    n(
        "clear",
        "reset",
        &[n(
            "bgp",
            "BGP sessions",
            &[
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
                n(
                    "<ADDRESS>",
                    "one neighbor",
                    &[n(
                        "soft",
                        "refresh routes, keep the session",
                        &[
                            n("in", "ask for the routes again", &[]),
                            n("out", "send ours again", &[]),
                        ],
                    )],
                ),
            ],
        )],
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

/// The configure-mode words that can follow `words` (`do` leads back to
/// the exec tree), or None when the exec tree applies.
fn config_level(mode: &Mode, words: &[&str]) -> Option<&'static [(&'static str, &'static str)]> {
    if *mode == Mode::Exec || words.first().is_some_and(|w| w.eq_ignore_ascii_case("do")) {
        return None;
    }
    let words = match words.first() {
        Some(w) if w.eq_ignore_ascii_case("no") => &words[1..],
        _ => words,
    };
    Some(match words {
        [] => configure::words(mode),
        [n, _addr] if "neighbor".starts_with(&n.to_ascii_lowercase()) && n.len() >= 3 => {
            configure::NEIGHBOR_WORDS
        }
        _ => &[],
    })
}

/// `?` help: the possible next words with their help.
pub fn help_for(mode: &Mode, line: &str) -> String {
    let trimmed = line.trim_end_matches('?');
    let all: Vec<&str> = trimmed.split_whitespace().collect();
    if let Some(level) = config_level(
        mode,
        &all[..all
            .len()
            .saturating_sub(usize::from(!trimmed.ends_with(' ') && !trimmed.is_empty()))],
    ) {
        let partial = !trimmed.ends_with(' ') && !trimmed.is_empty();
        let prefix = if partial {
            all.last().copied().unwrap_or("")
        } else {
            ""
        };
        let mut out = String::new();
        for (w, h) in level.iter().filter(|(w, _)| w.starts_with(prefix)) {
            out.push_str(&format!("  {w:<22} {h}\n"));
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
    let partial = !trimmed.ends_with(' ') && !trimmed.is_empty();
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

/// rustyline's helper: completion from the word tree of the current mode.
pub struct ShellHelper {
    pub mode: Arc<Mutex<Mode>>,
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
        if let Some(level) = config_level(&mode, &words) {
            let pairs = level
                .iter()
                .filter(|(w, _)| w.starts_with(prefix))
                .map(|(w, _)| Pair {
                    display: w.to_string(),
                    replacement: format!("{w} "),
                })
                .collect();
            return Ok((start, pairs));
        }
        if mode != Mode::Exec {
            words.remove(0);
        }
        let Some(level) = next_nodes(&words) else {
            return Ok((start, Vec::new()));
        };
        let pairs = level
            .iter()
            .filter(|n| !n.word.starts_with('<') && n.word.starts_with(prefix))
            .map(|n| Pair {
                display: n.word.to_string(),
                replacement: format!("{} ", n.word),
            })
            .collect();
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
        let h = help_for(&Mode::Exec, "show ?");
        assert!(
            h.contains("ip") && h.contains("interface") && h.contains("bgp"),
            "{h}"
        );
        let h = help_for(&Mode::Exec, "show i?");
        assert!(h.contains("interface") && !h.contains("zebra"), "{h}");
        assert!(help_for(&Mode::Exec, "show nonsense ?").contains("no matched command"));
        let h = help_for(&Mode::Exec, "show ?");
        assert!(h.contains("version") && h.contains("daemons"), "{h}");
        let h = help_for(&Mode::Exec, "show daemons ?");
        assert!(h.contains("json") && h.contains("<cr>"), "{h}");
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
