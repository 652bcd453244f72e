"""Per-feature Reflex states of the staff console."""

from ticket_app.ui.state.form import TicketFormState
from ticket_app.ui.state.session import SessionState
from ticket_app.ui.state.stats import StatsState
from ticket_app.ui.state.tickets import TicketListState
from ticket_app.ui.state.views import NavState

__all__ = ["NavState", "SessionState", "StatsState", "TicketFormState", "TicketListState"]
