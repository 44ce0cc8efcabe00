//! User account values: email, display name and password.

use std::fmt;

use crate::error::FieldError;

/// Maximum length of an email address, in characters.
pub const MAX_EMAIL_LEN: usize = 254;

/// Maximum length of a display name, in characters.
pub const MAX_DISPLAY_NAME_LEN: usize = 100;

/// Minimum length of a password, in characters.
pub const MIN_PASSWORD_LEN: usize = 12;

/// Maximum length of a password, in characters.
pub const MAX_PASSWORD_LEN: usize = 1024;

/// A validated, lowercased email address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Email(String);

impl Email {
    /// Trims, lowercases and checks an email address. Errors use the field
    /// `"email"`.
    ///
    /// The check is deliberately simple: exactly one `@`, a non-empty local
    /// part, a domain containing a `.` that is neither its first nor its last
    /// character, no whitespace or control characters, and at most
    /// [`MAX_EMAIL_LEN`] characters.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let email = input.trim().to_lowercase();
        if email.is_empty() {
            return Err(FieldError::new("email", "Email is required."));
        }
        if !is_plausible_email(&email) {
            return Err(FieldError::new(
                "email",
                "Enter a valid email address, like jane@example.com.",
            ));
        }
        Ok(Self(email))
    }

    /// The normalized (lowercased) address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Consumes the email and returns the inner string.
    pub fn into_inner(self) -> String {
        self.0
    }
}

fn is_plausible_email(email: &str) -> bool {
    if email.chars().count() > MAX_EMAIL_LEN
        || email.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return false;
    }
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A validated, trimmed display name for a user (1 to
/// [`MAX_DISPLAY_NAME_LEN`] characters).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DisplayName(String);

impl DisplayName {
    /// Trims and checks a display name. Errors use the field `"display_name"`.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let name = input.trim();
        if name.is_empty() {
            return Err(FieldError::new("display_name", "Display name is required."));
        }
        if name.chars().count() > MAX_DISPLAY_NAME_LEN {
            return Err(FieldError::new(
                "display_name",
                "Display name must be at most 100 characters.",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    /// The display name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Consumes the display name and returns the inner string.
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for DisplayName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A plaintext password that passed the length policy.
///
/// Not trimmed, not serializable, and its `Debug` output is redacted so it
/// cannot leak through logs. Use [`Password::expose`] only to hash it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Checks a password's length ([`MIN_PASSWORD_LEN`] to
    /// [`MAX_PASSWORD_LEN`] characters). The input is not trimmed. Errors use
    /// the field `"password"`.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let len = input.chars().count();
        if len < MIN_PASSWORD_LEN {
            return Err(FieldError::new(
                "password",
                "Password must be at least 12 characters.",
            ));
        }
        if len > MAX_PASSWORD_LEN {
            return Err(FieldError::new(
                "password",
                "Password must be at most 1024 characters.",
            ));
        }
        Ok(Self(input.to_owned()))
    }

    /// The plaintext password, for hashing or verification.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMAIL_INVALID: &str = "Enter a valid email address, like jane@example.com.";

    #[test]
    fn valid_emails() {
        let cases = [
            ("jane@example.com", "jane@example.com"),
            ("  Jane.Doe@Example.COM  ", "jane.doe@example.com"),
            ("a+tag@sub.example.co.uk", "a+tag@sub.example.co.uk"),
            ("x@y.z", "x@y.z"),
            ("JÜRGEN@Beispiel.de", "jürgen@beispiel.de"),
        ];
        for (input, expected) in cases {
            let email = Email::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(email.as_str(), expected);
        }
    }

    #[test]
    fn invalid_emails() {
        let too_long = format!("{}@example.com", "a".repeat(MAX_EMAIL_LEN - 11));
        let cases: [(&str, &str); 14] = [
            ("", "Email is required."),
            ("   ", "Email is required."),
            ("jane", EMAIL_INVALID),
            ("@example.com", EMAIL_INVALID),
            ("jane@", EMAIL_INVALID),
            ("jane@example", EMAIL_INVALID),
            ("jane@.example.com", EMAIL_INVALID),
            ("jane@example.com.", EMAIL_INVALID),
            ("jane@@example.com", EMAIL_INVALID),
            ("ja@ne@example.com", EMAIL_INVALID),
            ("jane doe@example.com", EMAIL_INVALID),
            ("jane@exa mple.com", EMAIL_INVALID),
            ("jane@example\t.com", EMAIL_INVALID),
            (&too_long, EMAIL_INVALID),
        ];
        for (input, message) in cases {
            let err = Email::parse(input).expect_err(input);
            assert_eq!(err.field, "email", "input {input:?}");
            assert_eq!(err.message, message, "input {input:?}");
        }
    }

    #[test]
    fn email_length_boundary() {
        // "@example.com" is 12 characters.
        let at_limit = format!("{}@example.com", "a".repeat(MAX_EMAIL_LEN - 12));
        let over = format!("{}@example.com", "a".repeat(MAX_EMAIL_LEN - 11));
        assert_eq!(at_limit.chars().count(), MAX_EMAIL_LEN);
        assert!(Email::parse(&at_limit).is_ok());
        assert!(Email::parse(&over).is_err());
    }

    #[test]
    fn display_names() {
        let cases = [
            ("Jane Doe", Ok("Jane Doe")),
            ("  Jürgen Groß  ", Ok("Jürgen Groß")),
            ("山田太郎", Ok("山田太郎")),
            ("", Err("Display name is required.")),
            (" \t ", Err("Display name is required.")),
        ];
        for (input, expected) in cases {
            let result = DisplayName::parse(input);
            match expected {
                Ok(name) => assert_eq!(result.unwrap().as_str(), name),
                Err(message) => {
                    let err = result.expect_err(input);
                    assert_eq!(err.field, "display_name");
                    assert_eq!(err.message, message);
                }
            }
        }
    }

    #[test]
    fn display_name_length_boundary_counts_chars() {
        let cases = [
            ("a".repeat(100), true),
            ("a".repeat(101), false),
            ("ß".repeat(100), true),
            ("ß".repeat(101), false),
        ];
        for (input, ok) in cases {
            match DisplayName::parse(&input) {
                Ok(_) => assert!(ok),
                Err(e) => {
                    assert!(!ok);
                    assert_eq!(e.message, "Display name must be at most 100 characters.");
                }
            }
        }
    }

    #[test]
    fn password_length_counts_chars_not_bytes() {
        const SHORT: &str = "Password must be at least 12 characters.";
        const LONG: &str = "Password must be at most 1024 characters.";
        let cases = [
            ("a".repeat(11), Err(SHORT)),
            ("a".repeat(12), Ok(())),
            ("ü".repeat(11), Err(SHORT)), // 22 bytes, 11 chars
            ("ü".repeat(12), Ok(())),
            ("🔑".repeat(11), Err(SHORT)), // 44 bytes, 11 chars
            ("🔑".repeat(12), Ok(())),
            ("密".repeat(12), Ok(())),
            ("a".repeat(1024), Ok(())),
            ("a".repeat(1025), Err(LONG)),
            (String::new(), Err(SHORT)),
        ];
        for (input, expected) in cases {
            let result = Password::parse(&input).map(|_| ()).map_err(|e| {
                assert_eq!(e.field, "password");
                e.message
            });
            assert_eq!(
                result,
                expected.map_err(str::to_owned),
                "{} chars",
                input.chars().count()
            );
        }
    }

    #[test]
    fn password_is_not_trimmed() {
        // Ten visible characters plus two surrounding spaces make twelve.
        let p = Password::parse(" abcdefghij ").unwrap();
        assert_eq!(p.expose(), " abcdefghij ");
        assert!(Password::parse("   abcdefghi").is_ok());
        assert!(Password::parse("            ").is_ok());
    }

    #[test]
    fn password_debug_is_redacted() {
        let p = Password::parse("correct horse battery staple").unwrap();
        assert_eq!(format!("{p:?}"), "Password(***)");
        assert_eq!(format!("{:?}", Some(p)), "Some(Password(***))");
    }
}
