//! Reusable UI pieces: the management shell (top bar, user menu, Create button), toasts, and
//! small widgets (fields, cards, badges, pager, dialogs, stepper, copy field), the form kit
//! (`form`: field errors that clear as the field is corrected, and the inputs that show them),
//! SVG chart primitives (`chart`), the Change Log table (`change_log`), the Change plan dialog of
//! a contract (`contracts`), and the API key widgets the client page and the portal share
//! (`keys`). Components never depend on pages.

pub mod change_log;
pub mod chart;
pub mod contracts;
pub mod form;
pub mod keys;
pub mod list;
pub mod operations;
pub mod shell;
pub mod status;
pub mod toast;
pub mod ui;
