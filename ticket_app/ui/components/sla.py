"""A ticket's nearest service-level target, as a badge: words first, colour second."""

from __future__ import annotations

import reflex as rx

_TONE_COLOURS = {"overdue": "red", "soon": "amber", "ok": "gray", "paused": "gray"}
_TONE_ICONS = {
    "overdue": "alarm-clock-off",
    "soon": "alarm-clock",
    "ok": "clock",
    "paused": "pause",
}


def sla_mark(text: rx.Var[str], tone: rx.Var[str]) -> rx.Component:
    """The words (e.g. "first reply due in 35 min") in a badge coloured by `tone`.

    The icon and the colour repeat what the words say; `data-sla-tone` names the tone.
    """
    return rx.badge(
        rx.match(
            tone,
            *(
                (name, rx.icon(icon, size=12, aria_hidden=True))
                for name, icon in _TONE_ICONS.items()
            ),
            rx.fragment(),
        ),
        text,
        color_scheme=rx.match(tone, *_TONE_COLOURS.items(), "gray"),
        variant="soft",
        high_contrast=True,
        size="1",
        data_testid="sla-mark",
        data_sla_tone=tone,
        style={"marginTop": "0.2rem", "whiteSpace": "normal"},
    )
