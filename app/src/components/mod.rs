//! Reusable UI pieces: the management shell (top bar, user menu, Create button), toasts, and
//! small widgets (fields, badges, pager, dialogs, stepper, copy field).

pub mod list;
pub mod shell;
pub mod status;
pub mod toast;
pub mod ui;
