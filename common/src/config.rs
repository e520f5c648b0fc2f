//! Located configuration errors. A daemon parses its TOML file with serde
//! (`toml::Spanned` on the values it validates) and reports the first
//! problem as `file:line: key: message`, so `--check` tells an operator
//! exactly what to fix. [`Locator`] turns spans into lines and holds the
//! checks every daemon needs (ranges, addresses, prefixes, log levels).

use std::net::IpAddr;
use std::ops::Range;
use std::path::Path;

use ipnetwork::IpNetwork;
use serde::de::DeserializeOwned;
use toml::Spanned;

/// A config problem, located.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {key}: {msg}")]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub key: String,
    pub msg: String,
}

/// The log levels a `log.level` key takes.
pub const LOG_LEVELS: [&str; 5] = ["error", "warn", "info", "debug", "trace"];

/// Reads a config file; an unreadable one is an error on line 0.
pub fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.display().to_string(),
        line: 0,
        key: String::new(),
        msg: format!("cannot read: {e}"),
    })
}

/// Locates spans of one config text.
pub struct Locator<'a> {
    pub file: &'a str,
    pub text: &'a str,
}

impl<'a> Locator<'a> {
    pub fn new(file: &'a str, text: &'a str) -> Self {
        Locator { file, text }
    }

    /// The 1-based line of a byte offset.
    pub fn line(&self, offset: usize) -> usize {
        self.text
            .get(..offset.min(self.text.len()))
            .unwrap_or("")
            .bytes()
            .filter(|&b| b == b'\n')
            .count()
            + 1
    }

    /// Deserializes the whole text; a syntax error or an unknown key is
    /// located, with the key named when the parser names it.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        toml::from_str(self.text).map_err(|e| {
            let line = e.span().map(|s| self.line(s.start)).unwrap_or(0);
            let msg = e.message().trim().to_string();
            let key = msg
                .split('`')
                .nth(1)
                .map(str::to_string)
                .unwrap_or_default();
            ConfigError {
                file: self.file.to_string(),
                line,
                key,
                msg,
            }
        })
    }

    pub fn err<T>(
        &self,
        span: Range<usize>,
        key: &str,
        msg: impl Into<String>,
    ) -> Result<T, ConfigError> {
        Err(ConfigError {
            file: self.file.to_string(),
            line: self.line(span.start),
            key: key.to_string(),
            msg: msg.into(),
        })
    }

    /// An integer within `min..=max`.
    pub fn int(&self, v: &Spanned<i64>, key: &str, min: i64, max: i64) -> Result<i64, ConfigError> {
        let n = *v.get_ref();
        if n < min || n > max {
            return self.err(v.span(), key, format!("{n} is out of range {min}..={max}"));
        }
        Ok(n)
    }

    /// An optional integer within `min..=max`, `default` when absent.
    pub fn opt_int(
        &self,
        v: &Option<Spanned<i64>>,
        key: &str,
        min: i64,
        max: i64,
        default: i64,
    ) -> Result<i64, ConfigError> {
        match v {
            Some(v) => self.int(v, key, min, max),
            None => Ok(default),
        }
    }

    /// A secret (a password, a key) read from the file named by `v`: a
    /// relative path is relative to the config file's directory; the file
    /// must not be readable by every user (`chmod o-r`), and its content
    /// without the final newline is the secret. Errors never show it.
    pub fn secret_file(&self, v: &Spanned<String>, key: &str) -> Result<String, ConfigError> {
        let given = Path::new(v.get_ref());
        let path = match Path::new(self.file).parent() {
            Some(dir) if given.is_relative() => dir.join(given),
            _ => given.to_path_buf(),
        };
        crate::api::readable(&path, true).or_else(|e| self.err(v.span(), key, e))?;
        let text = std::fs::read_to_string(&path)
            .or_else(|e| self.err(v.span(), key, format!("{}: {e}", path.display())))?;
        let secret = text.strip_suffix('\n').unwrap_or(&text);
        let secret = secret.strip_suffix('\r').unwrap_or(secret);
        if secret.is_empty() {
            return self.err(v.span(), key, format!("{} is empty", path.display()));
        }
        Ok(secret.to_string())
    }

    /// An IP address.
    pub fn addr(&self, v: &Spanned<String>, key: &str) -> Result<IpAddr, ConfigError> {
        self.addr_at(v.get_ref(), v.span(), key)
    }

    /// An IP address given as text at `span` (e.g. one element of a list).
    pub fn addr_at(&self, s: &str, span: Range<usize>, key: &str) -> Result<IpAddr, ConfigError> {
        s.parse()
            .or_else(|_| self.err(span, key, format!("`{s}` is not an IP address")))
    }

    /// A prefix with its host bits clear.
    pub fn prefix(&self, v: &Spanned<String>, key: &str) -> Result<IpNetwork, ConfigError> {
        proto::parse_prefix(v.get_ref()).or_else(|e| self.err(v.span(), key, e))
    }

    /// One of a fixed set of words, mapped to its value (aliases are more
    /// entries with the same value).
    pub fn choice<T: Copy>(
        &self,
        v: &Spanned<String>,
        key: &str,
        choices: &[(&str, T)],
    ) -> Result<T, ConfigError> {
        match choices.iter().find(|(w, _)| *w == v.get_ref().as_str()) {
            Some((_, t)) => Ok(*t),
            None => {
                let words: Vec<&str> = choices.iter().map(|(w, _)| *w).collect();
                self.err(
                    v.span(),
                    key,
                    format!("`{}` is not one of {}", v.get_ref(), words.join(", ")),
                )
            }
        }
    }

    /// A `log.level` value.
    pub fn log_level(
        &self,
        v: &Option<Spanned<String>>,
        key: &str,
    ) -> Result<Option<String>, ConfigError> {
        match v {
            Some(l) if LOG_LEVELS.contains(&l.get_ref().as_str()) => Ok(Some(l.get_ref().clone())),
            Some(l) => self.err(
                l.span(),
                key,
                format!("must be one of {}", LOG_LEVELS.join(", ")),
            ),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct T {
        a: Spanned<i64>,
        b: Option<Spanned<String>>,
    }

    #[test]
    fn errors_are_located() {
        let text = "a = 5\nb = \"192.0.2.1/24\"\n";
        let loc = Locator::new("x.toml", text);
        let t: T = loc.parse().unwrap();
        let e = loc.int(&t.a, "a", 6, 9).unwrap_err();
        assert_eq!(e.to_string(), "x.toml:1: a: 5 is out of range 6..=9");
        let b = t.b.unwrap();
        let e = loc.prefix(&b, "b").unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (2, "b"));
        assert!(e.msg.contains("192.0.2.0/24"));
        assert_eq!(loc.addr(&b, "b").unwrap_err().line, 2);
        let e = Locator::new("y.toml", "a = 1\nc = 2\n")
            .parse::<T>()
            .unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (2, "c"));
        assert_eq!(loc.opt_int(&None, "z", 0, 1, 7).unwrap(), 7);
    }

    #[test]
    fn choices_map_words_and_name_the_others() {
        let loc = Locator::new("c.toml", "a = 1\nb = \"any\"\n");
        let t: T = loc.parse().unwrap();
        let b = t.b.unwrap();
        assert_eq!(loc.choice(&b, "b", &[("all", 1), ("any", 2)]).unwrap(), 2);
        let e = loc
            .choice(&b, "b", &[("ipv4", 4), ("ipv6", 6)])
            .unwrap_err();
        assert_eq!(e.to_string(), "c.toml:2: b: `any` is not one of ipv4, ipv6");
    }
}
