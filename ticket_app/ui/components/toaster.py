"""The console's toaster: Sonner's, with each toast kept to the page it belongs to.

Sonner's toaster is part of the app, not of a page, so a toast stayed on screen for its whole
duration (4 s, 10 s with Undo) after the tab had moved to another page, where it spoke of
something the new page does not show (issue 25, item 19). Every toast the console sends names
its page in its id (`safe_events.toast_id`); when the path changes, this toaster dismisses the
toasts of other pages. Changing only the query (the list's filters) keeps them.
"""

from __future__ import annotations

import json

import reflex as rx
from reflex.components.sonner.toast import Toaster
from reflex.utils.imports import ImportVar
from reflex.vars import VarData

from ticket_app.ui.safe_events import TOAST_ID_PREFIX

_DISMISS_OTHER_PAGES = f"""
const {{ pathname: toastPage }} = useLocation();
useEffect(() => {{
  const prefix = {json.dumps(TOAST_ID_PREFIX)};
  const samePage = (path) => path.replace(/\\/+$/, "") === toastPage.replace(/\\/+$/, "");
  for (const shown of refs["__toast"]?.getToasts() ?? []) {{
    const id = String(shown.id);
    if (id.startsWith(prefix) && !samePage(id.slice(prefix.length, id.lastIndexOf("#")))) {{
      refs["__toast"].dismiss(shown.id);
    }}
  }}
}}, [toastPage]);
"""


class PageToaster(Toaster):
    """Sonner's toaster that dismisses other pages' toasts when the tab changes page."""

    def add_hooks(self) -> list[str | rx.Var]:
        """The route watch, after Sonner's own hook (Reflex collects each class's hooks)."""
        return [
            rx.Var(
                _js_expr=_DISMISS_OTHER_PAGES,
                _var_data=VarData(
                    imports={
                        "react": [ImportVar(tag="useEffect")],
                        "react-router": [ImportVar(tag="useLocation")],
                        "$/utils/state": [ImportVar(tag="refs")],
                    }
                ),
            )
        ]
