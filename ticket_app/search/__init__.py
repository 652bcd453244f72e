"""Ticket search: full-text matching, query syntax and ranking, and its relevance evaluation."""
