//! The validation error shared by all value types.

/// A validation failure tied to one input field.
///
/// `field` names the offending input (for example `"name"` or `"email"`) so a
/// form can show `message` next to it. `Display` prints only the message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, thiserror::Error)]
#[error("{message}")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// The name of the field that failed validation.
    pub field: String,
    /// A human-readable explanation, suitable for showing to the user.
    pub message: String,
}

impl FieldError {
    /// Creates an error for `field` with a user-facing `message`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_sets_fields_and_display_shows_message() {
        let err = FieldError::new("name", "Name is required.");
        assert_eq!(err.field, "name");
        assert_eq!(err.message, "Name is required.");
        assert_eq!(err.to_string(), "Name is required.");
    }

    #[test]
    fn accepts_owned_and_borrowed_strings() {
        let a = FieldError::new(String::from("f"), String::from("m"));
        let b = FieldError::new("f", "m");
        assert_eq!(a, b);
    }
}
