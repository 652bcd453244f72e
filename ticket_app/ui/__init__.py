"""The staff console, built on the service layer only.

Reflex states live in `ticket_app.ui.state`, components in `ticket_app.ui.components`.
"""
