"""Triage Desk: a support-ticket system with LLM-assisted triage, built on Reflex."""
