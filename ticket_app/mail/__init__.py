"""E-mail as text work: parsing hostile mail, threading keys, loop rules, composing replies.

Nothing here touches the database or the network except `transport`, which speaks IMAP and
SMTP to the servers it is handed. The services decide what a parsed mail becomes (a ticket, a
comment, a bounce note or a quarantined message).
"""
