//! The service's error type: what went wrong, in terms an adapter can map once.
//!
//! - [`Error::Invalid`] — the input breaks a rule; one message per field (HTTP 422).
//! - [`Error::Conflict`] — the input is valid but collides with existing state, e.g. a taken name
//!   or the last owner (HTTP 409). `field` is empty when no single field is to blame.
//! - [`Error::NotFound`] / [`Error::Forbidden`] / [`Error::Unauthenticated`] (404 / 403 / 401).
//!   Objects the caller may not even view are reported as not found, so ids do not leak.
//! - [`Error::RateLimited`] (429).
//! - [`Error::Unavailable`] — the database does not answer (a connection could not be had);
//!   nothing was written (HTTP 503).
//! - [`Error::Unexpected`] — anything else (database down, bug). Adapters log it with its chain
//!   and show a short, safe message; its text never reaches the browser.

use domain::FieldError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid input: {0:?}")]
    Invalid(Vec<FieldError>),
    #[error("conflict: {0}")]
    Conflict(FieldError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("authentication required")]
    Unauthenticated,
    #[error("{0}")]
    RateLimited(String),
    #[error("the database does not answer: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("unexpected error: {0}")]
    Unexpected(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl Error {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Error::Invalid(vec![FieldError::new(field, message)])
    }

    pub fn conflict(field: &str, message: impl Into<String>) -> Self {
        Error::Conflict(FieldError::new(field, message))
    }

    pub fn unexpected(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Error::Unexpected(e.into())
    }
}

/// An error with its sources, `outer: inner: …`, for the log (never for the browser).
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut chain = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        chain.push_str(": ");
        chain.push_str(&s.to_string());
        source = s.source();
    }
    chain
}

impl From<FieldError> for Error {
    fn from(e: FieldError) -> Self {
        Error::Invalid(vec![e])
    }
}

/// A lifecycle rule said no: the request is valid but the state does not allow it (409).
impl From<domain::lifecycle::Refusal> for Error {
    fn from(r: domain::lifecycle::Refusal) -> Self {
        Error::conflict("", r.0)
    }
}

impl From<sea_orm::DbErr> for Error {
    fn from(e: sea_orm::DbErr) -> Self {
        match e {
            // No connection could be had: the database is down or unreachable.
            sea_orm::DbErr::ConnectionAcquire(_) | sea_orm::DbErr::Conn(_) => {
                Error::Unavailable(Box::new(e))
            }
            e => Error::Unexpected(Box::new(e)),
        }
    }
}

impl<E> From<sea_orm::TransactionError<E>> for Error
where
    E: Into<Error> + std::error::Error,
{
    fn from(e: sea_orm::TransactionError<E>) -> Self {
        match e {
            sea_orm::TransactionError::Connection(e) => e.into(),
            sea_orm::TransactionError::Transaction(e) => e.into(),
        }
    }
}

/// Collects the results of several field parsers so that the user sees every problem at once.
pub(crate) fn collect_fields<const N: usize>(results: [Option<FieldError>; N]) -> Result<()> {
    let errors: Vec<FieldError> = results.into_iter().flatten().collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(errors))
    }
}
