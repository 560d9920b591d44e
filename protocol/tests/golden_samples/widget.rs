//! The samples of `neurochat_protocol::v1::widget`.

use neurochat_protocol::v1::*;

use crate::{Sample, Unknown, sample};

pub(super) fn widget_samples() -> Vec<Sample> {
    use Unknown::*;
    vec![
        sample(
            "widget.widget_status_view",
            Ignored,
            WidgetStatusView {
                agents_online: 2,
                reply_within_seconds: Some(300),
            },
        ),
        sample(
            "widget.widget_status_view.unknown",
            Ignored,
            WidgetStatusView {
                agents_online: 0,
                reply_within_seconds: None,
            },
        ),
    ]
}
