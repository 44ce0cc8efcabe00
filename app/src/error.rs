//! The error every `#[server]` function returns. It crosses the wire as JSON, so the browser can
//! put each message next to its field. Unexpected server errors arrive without their details.

use domain::FieldError;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Please correct the highlighted fields.")]
    Invalid(Vec<FieldError>),
    #[error("{}", .0.message)]
    Conflict(FieldError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("Please sign in to continue.")]
    Unauthenticated,
    #[error("{0}")]
    RateLimited(String),
    #[error("Something went wrong on our side. Please try again.")]
    Unexpected,
    #[error("Could not reach the server ({0}). Check your connection and try again.")]
    Transport(String),
    #[error("The request was not understood ({0}).")]
    BadRequest(String),
    #[error(
        "Tollgate cannot reach its database right now. Nothing was changed; try again in a minute."
    )]
    Unavailable,
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Arguments that do not decode: the caller's fault, not the network's (HTTP 400).
            ServerFnErrorErr::Args(m)
            | ServerFnErrorErr::MissingArg(m)
            | ServerFnErrorErr::Deserialization(m) => {
                #[cfg(feature = "ssr")]
                if let Some(res) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
                    res.set_status(http::StatusCode::BAD_REQUEST);
                }
                AppError::BadRequest(m)
            }
            other => AppError::Transport(other.to_string()),
        }
    }
}

impl AppError {
    /// The message for one form field, if the error is about it.
    pub fn field(&self, name: &str) -> Option<String> {
        match self {
            AppError::Invalid(errors) => errors
                .iter()
                .find(|e| e.field == name)
                .map(|e| e.message.clone()),
            AppError::Conflict(e) if e.field == name => Some(e.message.clone()),
            _ => None,
        }
    }

    /// A message for the whole form, when the error is not tied to a single field.
    pub fn general(&self) -> Option<String> {
        match self {
            AppError::Invalid(_) => None,
            AppError::Conflict(e) if !e.field.is_empty() => None,
            other => Some(other.to_string()),
        }
    }
}

#[cfg(feature = "ssr")]
mod server {
    use super::AppError;
    use http::StatusCode;

    impl AppError {
        pub fn status(&self) -> StatusCode {
            match self {
                AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
                AppError::Conflict(_) => StatusCode::CONFLICT,
                AppError::NotFound(_) => StatusCode::NOT_FOUND,
                AppError::Forbidden(_) => StatusCode::FORBIDDEN,
                AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
                AppError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
                AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
                AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
                AppError::Unexpected | AppError::Transport(_) => StatusCode::INTERNAL_SERVER_ERROR,
            }
        }
    }

    impl From<service::Error> for AppError {
        /// Maps a service error once, sets the HTTP status of the server-function response and
        /// logs unexpected errors with their chain (the browser only gets a safe message).
        fn from(e: service::Error) -> Self {
            let app = match e {
                service::Error::Invalid(v) => AppError::Invalid(v),
                service::Error::Conflict(f) => AppError::Conflict(f),
                service::Error::NotFound(m) => AppError::NotFound(m),
                service::Error::Forbidden(m) => AppError::Forbidden(m),
                service::Error::Unauthenticated => AppError::Unauthenticated,
                service::Error::RateLimited(m) => AppError::RateLimited(m),
                service::Error::Unavailable(err) => {
                    let chain = service::error_chain(err.as_ref());
                    tracing::warn!(error = %chain, "the database does not answer");
                    AppError::Unavailable
                }
                service::Error::Unexpected(err) => {
                    let chain = service::error_chain(err.as_ref());
                    tracing::error!(error = %chain, "unexpected error in a server function");
                    AppError::Unexpected
                }
            };
            if let Some(res) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
                res.set_status(app.status());
            }
            app
        }
    }

    impl From<domain::FieldError> for AppError {
        fn from(e: domain::FieldError) -> Self {
            service::Error::from(e).into()
        }
    }
}

impl AppError {
    /// One message for places that show a single line (a summary step, a toast).
    pub fn message(&self) -> String {
        match self {
            AppError::Invalid(errors) => errors
                .first()
                .map_or_else(|| self.to_string(), |e| e.message.clone()),
            AppError::Conflict(e) => e.message.clone(),
            other => other.to_string(),
        }
    }
}
