/// Who is asking: the signed-in user behind a request. Built by `sessions::authenticate`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ctx {
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    pub is_admin: bool,
    pub portal_only: bool,
}

impl Ctx {
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
