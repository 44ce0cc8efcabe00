//! Free-text versions of APIs, client apps and plans.

use std::fmt;

use crate::error::FieldError;
use crate::ids::is_id_char;

/// Maximum length of a version, in characters.
pub const MAX_VERSION_LEN: usize = 64;

/// The version suggested for a new entity.
pub const DEFAULT_VERSION: &str = "1.0";

/// A validated version label such as `1.0`, `2.1.0-beta` or `v2`.
///
/// Trimmed, 1 to [`MAX_VERSION_LEN`] characters of `[A-Za-z0-9_.-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Version(String);

impl Version {
    /// Validates and trims a version. Errors use the field `"version"`.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let version = input.trim();
        let error = |message: &str| FieldError::new("version", message);
        if version.is_empty() {
            return Err(error("Version is required."));
        }
        if version.chars().count() > MAX_VERSION_LEN {
            return Err(error("Version must be at most 64 characters."));
        }
        // At least one letter or digit: "." and ".." would be unusable in URLs.
        if !version.chars().all(is_id_char) || !version.chars().any(|c| c.is_ascii_alphanumeric()) {
            return Err(error(
                "Use only letters, digits, '.', '_' or '-' (for example 1.0, 2.1.0-beta or v2).",
            ));
        }
        Ok(Self(version.to_owned()))
    }

    /// The version text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Consumes the version and returns the inner string.
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl Default for Version {
    /// Returns [`DEFAULT_VERSION`].
    fn default() -> Self {
        Self(DEFAULT_VERSION.to_owned())
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Version {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUIRED: &str = "Version is required.";
    const TOO_LONG: &str = "Version must be at most 64 characters.";
    const INVALID: &str =
        "Use only letters, digits, '.', '_' or '-' (for example 1.0, 2.1.0-beta or v2).";

    #[test]
    fn valid_versions() {
        let cases = [
            ("1.0", "1.0"),
            ("2.1.0-beta", "2.1.0-beta"),
            ("v2", "v2"),
            ("2024_01", "2024_01"),
            ("  3.0  ", "3.0"),
            ("\t1\n", "1"),
            ("-1", "-1"),
        ];
        for (input, expected) in cases {
            let v = Version::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(v.as_str(), expected);
            assert_eq!(v.to_string(), expected);
        }
    }

    #[test]
    fn invalid_versions() {
        let too_long = "1".repeat(MAX_VERSION_LEN + 1);
        let cases: [(&str, &str); 10] = [
            ("", REQUIRED),
            ("   ", REQUIRED),
            (&too_long, TOO_LONG),
            ("1 0", INVALID),
            ("1.0/beta", INVALID),
            ("v2+build", INVALID),
            ("1.0é", INVALID),
            ("版本1", INVALID),
            ("🚀", INVALID),
            ("1\t0", INVALID),
        ];
        for (input, message) in cases {
            let err = Version::parse(input).expect_err(input);
            assert_eq!(err.field, "version", "input {input:?}");
            assert_eq!(err.message, message, "input {input:?}");
        }
    }

    #[test]
    fn version_length_boundary() {
        let cases = [
            ("a".repeat(63), true),
            ("a".repeat(64), true),
            ("a".repeat(65), false),
            (format!(" {} ", "1".repeat(64)), true),
        ];
        for (input, ok) in cases {
            assert_eq!(Version::parse(&input).is_ok(), ok, "len {}", input.len());
        }
    }

    #[test]
    fn default_version_is_valid_and_used_by_default() {
        assert_eq!(Version::parse(DEFAULT_VERSION).unwrap(), Version::default());
        assert_eq!(Version::default().into_inner(), "1.0");
    }
}

#[cfg(test)]
mod dot_tests {
    use super::Version;

    #[test]
    fn versions_need_a_letter_or_digit() {
        for bad in [".", "..", "-", "_._"] {
            assert!(Version::parse(bad).is_err(), "{bad}");
        }
        for ok in ["1", ".1", "v-", "2024_01"] {
            assert!(Version::parse(ok).is_ok(), "{ok}");
        }
    }
}
