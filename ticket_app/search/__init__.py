"""Ticket search: the query syntax agents type (`query`), its relevance evaluation (`evaluate`)."""
