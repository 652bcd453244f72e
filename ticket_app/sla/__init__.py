"""Service levels as pure time arithmetic: business calendars and the SLA clock (issue 22).

`calendar` says when a team works (a time zone, weekly opening intervals, holidays) and counts
business minutes; `clock` computes a ticket's due and breach instants from its history. Nothing
here touches the database: the services load a ticket's history, call `clock.compute_sla_state`
and store what it returns.
"""
