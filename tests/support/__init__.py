"""Helpers shared by the tests; fixtures stay in the conftest.py files.

- `server`: the one way to start a server process, wait for it and stop its process group.
- `database`: scratch PostgreSQL databases.
- `tickets`: tickets made through the API, backdated in the database.
- `auth`: staff users, API tokens, sign-in, and aged sessions and tokens.
- `workspace`: staff with clients, tickets at chosen times, paging through lists.
- `cli`: names the CLI tests share.
- `faults` and `export_server`: exports whose database connection drops part-way.
- `seed`: made-up tickets posted to a running server (browser tests, screenshots).
- `cluster`: two app instances behind HAProxy with Redis (the `scale` set-up).
- `mail_servers`: a private dovecot and an SMTP server on loopback (the `mail` tests).
"""
