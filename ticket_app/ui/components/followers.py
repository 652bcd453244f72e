"""The ticket page's followers: who follows it, and the Follow / Unfollow button."""

from __future__ import annotations

import reflex as rx

from ticket_app.ui.components.ticket_fields import SECTION_HEADING
from ticket_app.ui.state.followers import FollowState


def followers_panel() -> rx.Component:
    """Followers by name (text only) and, for staff, a button to follow or stop."""
    return rx.box(
        rx.hstack(
            rx.heading("Followers", id="followers-heading", **SECTION_HEADING),
            rx.spacer(),
            rx.cond(
                FollowState.may_follow,
                rx.button(
                    rx.cond(
                        FollowState.following,
                        rx.icon("bell-off", size=14, aria_hidden=True),
                        rx.icon("bell-plus", size=14, aria_hidden=True),
                    ),
                    rx.cond(FollowState.following, "Unfollow", "Follow"),
                    size="1",
                    variant="soft",
                    on_click=FollowState.toggle,
                    loading=FollowState.busy,
                    id="follow-button",
                ),
            ),
            align="center",
            width="100%",
        ),
        rx.text(
            FollowState.followers_text,
            size="2",
            data_testid="followers",
            style={"overflowWrap": "anywhere"},
        ),
        width="100%",
    )
