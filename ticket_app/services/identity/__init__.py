"""Staff identity: accounts, console sessions, API tokens and the first-admin setup.

`users`, `sessions`, `tokens` and `setup` hold one each; `credentials` how passwords and tokens
are stored (hashes and digests only).
"""
