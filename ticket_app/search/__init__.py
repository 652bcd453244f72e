"""Ticket search: the query syntax agents type (`query`) and its relevance evaluation (`evaluate`)."""
