/// What a personal access token allows within its owner's rights (`access_tokens::authenticate`).
/// The rules that apply it live in `authz`: [`crate::authz::sees_org`], [`crate::authz::require`],
/// [`crate::authz::require_write`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenGrant {
    pub token_id: String,
    pub read_only: bool,
    /// The organizations it is limited to; `None`: all of its owner's.
    pub orgs: Option<Vec<String>>,
}

/// Who is asking: the signed-in user behind a request. Built by `sessions::authenticate`, or by
/// `access_tokens::authenticate` for a request with a personal access token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ctx {
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    pub is_admin: bool,
    pub portal_only: bool,
    /// The request came through the Developer Portal's own functions, which portal-only
    /// accounts may use (management functions refuse them).
    pub via_portal: bool,
    /// The personal access token the request came with; `None` for a browser session.
    pub grant: Option<TokenGrant>,
}

impl Ctx {
    /// The same user, acting through the Developer Portal.
    pub fn for_portal(&self) -> Ctx {
        Ctx {
            via_portal: true,
            ..self.clone()
        }
    }

    pub fn user(&self) -> domain::dto::UserDto {
        domain::dto::UserDto {
            id: self.user_id.clone(),
            email: self.email.clone(),
            display_name: self.display_name.clone(),
            is_admin: self.is_admin,
            portal_only: self.portal_only,
        }
    }
}
