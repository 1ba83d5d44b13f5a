//! How Surety's services load their TOML configuration: read, parse with unknown keys refused,
//! resolve relative paths against the file's directory, validate. Every error names the file,
//! and a failed check names the key and the problem, so the operator and the aggregator report
//! a bad file the same way.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, de::DeserializeOwned};

/// Errors loading a configuration file (or a file it names).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("{}: `{key}`: {problem}", path.display())]
    Invalid {
        path: PathBuf,
        key: String,
        problem: String,
    },
}

/// A failed check: the key, and what is wrong with its value.
pub type Invalid = (String, String);

/// A service's configuration file.
pub trait ConfigFile: DeserializeOwned {
    /// Makes every relative path in the file relative to `base`, the file's directory.
    fn resolve_paths(&mut self, base: &Path);

    /// Checks what the types cannot.
    fn validate(&self) -> Result<(), Invalid>;

    /// Reads, parses, resolves and validates `path`.
    fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config: Self = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        config.resolve_paths(path.parent().unwrap_or(Path::new(".")));
        config
            .validate()
            .map_err(|(key, problem)| ConfigError::Invalid {
                path: path.to_owned(),
                key,
                problem,
            })?;
        Ok(config)
    }
}

/// Joins a relative `path` to `base`; leaves an absolute one alone.
pub fn resolve(base: &Path, path: &mut PathBuf) {
    if path.is_relative() {
        *path = base.join(&*path);
    }
}

/// `Err((key, problem))`.
pub fn invalid(key: &str, problem: &str) -> Result<(), Invalid> {
    Err((key.to_owned(), problem.to_owned()))
}

/// Checks that `url` is an `http://` or `https://` URL.
pub fn check_url(key: &str, url: &str) -> Result<(), Invalid> {
    let scheme = url.starts_with("http://") || url.starts_with("https://");
    let host = url
        .split_once("://")
        .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or_default())
        .is_some_and(|authority| !authority.is_empty() && !authority.contains(char::is_whitespace));
    if scheme && host {
        Ok(())
    } else {
        invalid(key, &format!("{url:?} is not an http:// or https:// URL"))
    }
}

/// `#[serde(with = "millis")]`: a duration given in whole milliseconds.
pub mod millis {
    use super::{Deserialize, Deserializer};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        for good in ["http://127.0.0.1:8545", "https://rpc.example.org/v1?key=x"] {
            assert!(check_url("k", good).is_ok(), "{good}");
        }
        for bad in [
            "127.0.0.1:8545",
            "ws://x",
            "http://",
            "http:// x",
            "ftp://x",
        ] {
            assert_eq!(check_url("l1.rpc", bad).unwrap_err().0, "l1.rpc", "{bad}");
        }
    }

    #[test]
    fn relative_paths_follow_the_file() {
        let mut relative = PathBuf::from("data");
        resolve(Path::new("/etc/surety"), &mut relative);
        assert_eq!(relative, Path::new("/etc/surety/data"));
        let mut absolute = PathBuf::from("/var/lib/surety");
        resolve(Path::new("/etc/surety"), &mut absolute);
        assert_eq!(absolute, Path::new("/var/lib/surety"));
    }
}
