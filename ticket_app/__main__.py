"""Command-line entry point: `python -m ticket_app COMMAND`."""

from ticket_app.cli import app

app(prog_name="python -m ticket_app")
