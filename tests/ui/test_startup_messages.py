"""Start-up says what a newcomer needs and no Reflex deprecation (issue 25, item 23).

`make run` printed ten Reflex deprecation warnings: nine for form controls submitted by their
`id` (the new-ticket, staff and token forms; Reflex 0.11 submits only controls with a `name`)
and one for `App(theme=...)`. The forms' controls now have names and the theme is the Radix
plugin's, so building the console logs none.
"""

from __future__ import annotations

import subprocess
import sys

from ticket_app.settings import PROJECT_ROOT

# Builds every page (importing the app adds them) with Reflex's deprecation log captured.
BUILD_PAGES = """
import logging
messages = []
class Collect(logging.Handler):
    def emit(self, record):
        messages.append(record.getMessage())
logging.getLogger("reflex.deprecation").addHandler(Collect())
import ticket_app.ticket_app
from reflex_base.config import get_config
from reflex_components_radix.plugin import RadixThemesPlugin
assert ticket_app.ticket_app.app.theme is None, "App(theme=...) is deprecated"
(radix,) = [p for p in get_config().plugins if isinstance(p, RadixThemesPlugin)]
assert radix.theme is not None and "indigo" in str(radix.theme.render()), radix.theme
print("\\n".join(messages))
"""


def test_building_the_console_logs_no_reflex_deprecation() -> None:
    result = subprocess.run(
        [sys.executable, "-c", BUILD_PAGES],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
