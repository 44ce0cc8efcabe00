//! Toasts: short confirmations in the top right, announced to screen readers, gone after 5 s.

use leptos::prelude::*;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ToastKind {
    Success,
    Error,
}

#[derive(Clone, Debug)]
struct Toast {
    id: u64,
    kind: ToastKind,
    message: String,
}

#[derive(Clone, Copy)]
pub struct Toasts {
    items: RwSignal<Vec<Toast>>,
    next: StoredValue<u64>,
}

impl Toasts {
    pub fn show(&self, kind: ToastKind, message: impl Into<String>) {
        let id = self.next.get_value();
        self.next.set_value(id + 1);
        self.items.update(|v| {
            v.push(Toast {
                id,
                kind,
                message: message.into(),
            })
        });
        let items = self.items;
        set_timeout(
            move || items.update(|v| v.retain(|t| t.id != id)),
            std::time::Duration::from_secs(5),
        );
    }

    pub fn success(&self, message: impl Into<String>) {
        self.show(ToastKind::Success, message);
    }

    pub fn error(&self, message: impl Into<String>) {
        self.show(ToastKind::Error, message);
    }
}

pub fn provide_toasts() {
    provide_context(Toasts {
        items: RwSignal::new(Vec::new()),
        next: StoredValue::new(0),
    });
}

pub fn use_toasts() -> Toasts {
    expect_context::<Toasts>()
}

#[component]
pub fn ToastRegion() -> impl IntoView {
    let toasts = use_toasts();
    view! {
        <div class="toast-region" role="status" aria-live="polite">
            <For each=move || toasts.items.get() key=|t| t.id let:toast>
                <div class=move || {
                    match toast.kind {
                        ToastKind::Success => "toast toast--success",
                        ToastKind::Error => "toast toast--error",
                    }
                }>{toast.message.clone()}</div>
            </For>
        </div>
    }
}
