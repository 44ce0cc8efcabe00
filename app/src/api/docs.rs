//! The management REST API's reference, for the `/docs/api` page.

use domain::portal::DefinitionSummary;
use leptos::prelude::*;

use crate::error::AppError;

/// The operations of `/api/v1/openapi.json`, grouped by tag, for a signed-in user.
#[server]
pub async fn api_reference() -> Result<DefinitionSummary, AppError> {
    crate::ssr::ctx()?;
    let reference = use_context::<crate::ssr::ApiReference>().ok_or_else(|| {
        tracing::error!("ApiReference missing from the server function context");
        AppError::Unexpected
    })?;
    Ok((*reference.0).clone())
}
