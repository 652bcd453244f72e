"""Plain functions behind the console's event handlers, one module per page, free of Reflex.

`tickets` the list: its URL query (`ListQuery`), rows, paging and summary; `ticket_page` one
ticket's page; `form` the new-ticket form and validation messages; `stats` the dashboard;
`triage` the triage reading (similar tickets, suggested title, language, tone, merges).
Rows handed to the browser are flat `dict[str, str]`.
"""
