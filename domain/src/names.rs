//! Names and descriptions of organizations, APIs, clients and plans.

use std::fmt;

use crate::error::FieldError;
use crate::ids::id_from_name;

/// Maximum length of a name, in characters.
pub const MAX_NAME_LEN: usize = 100;

/// Maximum length of a description, in characters.
pub const MAX_DESCRIPTION_LEN: usize = 512;

/// A validated entity name (organization, API, client app, plan).
///
/// A name is trimmed, 1 to [`MAX_NAME_LEN`] characters long, free of control
/// characters, and yields an id ([`EntityName::id`]) with at least one ASCII
/// letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EntityName(String);

impl EntityName {
    /// Validates and trims a name. Errors use the field `"name"`.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let name = input.trim();
        let error = |message: &str| FieldError::new("name", message);
        if name.is_empty() {
            return Err(error("Name is required."));
        }
        if name.chars().count() > MAX_NAME_LEN {
            return Err(error("Name must be at most 100 characters."));
        }
        if name.chars().any(char::is_control) {
            return Err(error("Name must not contain control characters."));
        }
        if !id_from_name(name)
            .chars()
            .any(|c| c.is_ascii_alphanumeric())
        {
            return Err(error("The name must contain at least one letter or digit."));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name as entered (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id derived from this name (see [`id_from_name`]); never empty.
    pub fn id(&self) -> String {
        id_from_name(&self.0)
    }

    /// Consumes the name and returns the inner string.
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Display for EntityName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for EntityName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A validated, optional free-text description.
///
/// Trimmed; may be empty; at most [`MAX_DESCRIPTION_LEN`] characters.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Description(String);

impl Description {
    /// Validates and trims a description. Errors use the field `"description"`.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let text = input.trim();
        if text.chars().count() > MAX_DESCRIPTION_LEN {
            return Err(FieldError::new(
                "description",
                "Description must be at most 512 characters.",
            ));
        }
        Ok(Self(text.to_owned()))
    }

    /// The description text (trimmed, possibly empty).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Returns `true` if the description is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Consumes the description and returns the inner string.
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Display for Description {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Description {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUIRED: &str = "Name is required.";
    const TOO_LONG: &str = "Name must be at most 100 characters.";
    const NO_ID: &str = "The name must contain at least one letter or digit.";
    const CONTROL: &str = "Name must not contain control characters.";

    #[test]
    fn valid_names() {
        // (input, stored name, id)
        let cases = [
            ("Janes Test Client", "Janes Test Client", "JanesTestClient"),
            ("  Payments API  ", "Payments API", "PaymentsAPI"),
            ("Café Crème", "Café Crème", "CafeCreme"),
            ("Straße", "Straße", "Strasse"),
            ("日本", "日本", "RiBen"),
            ("Rocket 🚀", "Rocket 🚀", "Rocket"),
            ("x", "x", "x"),
            ("7", "7", "7"),
            ("v2.1-beta_x", "v2.1-beta_x", "v2.1-beta_x"),
        ];
        for (input, stored, id) in cases {
            let name = EntityName::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(name.as_str(), stored, "input {input:?}");
            assert_eq!(name.id(), id, "input {input:?}");
        }
    }

    #[test]
    fn invalid_names() {
        let long = "a".repeat(MAX_NAME_LEN + 1);
        let cases: [(&str, &str); 12] = [
            ("", REQUIRED),
            ("   ", REQUIRED),
            ("\t\n ", REQUIRED),
            ("\u{3000}", REQUIRED), // ideographic space is whitespace
            (&long, TOO_LONG),
            ("🚀", NO_ID),
            ("🦄☣", NO_ID),
            ("!!!", NO_ID),
            ("---", NO_ID),
            ("...", NO_ID),
            ("bad\tname", CONTROL),
            ("bad\u{7}name", CONTROL),
        ];
        for (input, message) in cases {
            let err = EntityName::parse(input).expect_err(input);
            assert_eq!(err.field, "name", "input {input:?}");
            assert_eq!(err.message, message, "input {input:?}");
        }
    }

    #[test]
    fn name_length_boundary_counts_chars() {
        let cases = [
            ("a".repeat(100), true),
            ("a".repeat(101), false),
            ("é".repeat(100), true), // 200 bytes, 100 chars
            ("é".repeat(101), false),
            ("日".repeat(100), true),
            ("日".repeat(101), false),
            (format!("  {}  ", "ß".repeat(100)), true), // trimmed before counting
        ];
        for (input, ok) in cases {
            let result = EntityName::parse(&input);
            assert_eq!(result.is_ok(), ok, "{} chars", input.chars().count());
            if let Err(e) = result {
                assert_eq!(e.message, TOO_LONG);
            }
        }
    }

    #[test]
    fn name_display_and_into_inner() {
        let name = EntityName::parse(" Orders ").unwrap();
        assert_eq!(name.to_string(), "Orders");
        assert_eq!(name.as_ref(), "Orders");
        assert_eq!(name.into_inner(), "Orders");
    }

    #[test]
    fn descriptions() {
        let cases = [
            ("", Some("")),
            ("   ", Some("")),
            ("  Handles orders.  ", Some("Handles orders.")),
            ("Zeilen\nmit Umbruch", Some("Zeilen\nmit Umbruch")),
            ("Grüße aus Köln 🚀", Some("Grüße aus Köln 🚀")),
        ];
        for (input, expected) in cases {
            let d = Description::parse(input).unwrap();
            assert_eq!(Some(d.as_str()), expected, "input {input:?}");
        }
        assert!(Description::parse("").unwrap().is_empty());
    }

    #[test]
    fn description_length_boundary_counts_chars() {
        let cases = [
            ("a".repeat(512), true),
            ("a".repeat(513), false),
            ("ü".repeat(512), true),
            ("ü".repeat(513), false),
        ];
        for (input, ok) in cases {
            match Description::parse(&input) {
                Ok(d) => {
                    assert!(ok, "{} chars accepted", input.chars().count());
                    assert_eq!(d.into_inner(), input);
                }
                Err(e) => {
                    assert!(!ok, "{} chars refused", input.chars().count());
                    assert_eq!(e.field, "description");
                    assert_eq!(e.message, "Description must be at most 512 characters.");
                }
            }
        }
    }
}
