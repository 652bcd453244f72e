"""The client's address behind trusted proxies (`TRUSTED_PROXIES`, services.client_address).

A client can write anything into X-Forwarded-For; proxies append to what it sent. Only the
entries appended by trusted proxies count, read from the right.
"""

from __future__ import annotations

from ipaddress import ip_network

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from tests.conftest import TEST_PASSWORD
from tests.support.auth import Clients, add_user
from ticket_app.models import Role
from ticket_app.services.client_address import client_address
from ticket_app.settings import Settings, get_settings

BALANCER = "10.0.0.2"
TRUSTED = [ip_network("10.0.0.0/24"), ip_network("fd00::/64")]


def resolve(peer: str | None, forwarded_for: str | None, trusted=TRUSTED) -> str | None:
    return client_address(peer, forwarded_for, trusted=trusted)


def test_an_untrusted_peer_is_the_client_whatever_it_forwards() -> None:
    assert resolve("203.0.113.7", "198.51.100.1") == "203.0.113.7"
    assert resolve("203.0.113.7", "10.0.0.9") == "203.0.113.7"  # not even a trusted-looking one
    assert resolve("testclient", "198.51.100.1") == "testclient"  # a peer that is no address
    assert resolve(None, "198.51.100.1") is None


def test_nobody_is_trusted_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(_env_file=None).trusted_proxies == []
    assert resolve(BALANCER, "198.51.100.1", trusted=[]) == BALANCER
    monkeypatch.delenv("TRUSTED_PROXIES", raising=False)
    get_settings.cache_clear()
    try:
        assert client_address(BALANCER, "198.51.100.1") == BALANCER  # the setting is read
    finally:
        get_settings.cache_clear()


def test_a_trusted_peer_gives_the_address_it_appended() -> None:
    assert resolve(BALANCER, "198.51.100.1") == "198.51.100.1"
    assert resolve(BALANCER, " 198.51.100.1 ") == "198.51.100.1"


def test_the_rightmost_untrusted_entry_wins_over_a_spoofed_leftmost_one() -> None:
    # The client sent "X-Forwarded-For: 192.0.2.66" hoping to be taken for someone else; the
    # balancer appended the address it really saw.
    assert resolve(BALANCER, "192.0.2.66, 198.51.100.1") == "198.51.100.1"
    assert resolve(BALANCER, "1.1.1.1, 2.2.2.2, 192.0.2.66, 198.51.100.1") == "198.51.100.1"
    # A spoofed entry that looks like a trusted proxy does not let it reach further left.
    assert resolve(BALANCER, "192.0.2.66, 10.0.0.7, 198.51.100.1") == "198.51.100.1"


def test_a_chain_of_trusted_proxies_is_stepped_over() -> None:
    # client -> 10.0.0.5 (edge proxy) -> 10.0.0.9 (inner proxy) -> BALANCER -> app
    assert resolve(BALANCER, "198.51.100.1, 10.0.0.5, 10.0.0.9") == "198.51.100.1"
    assert resolve(BALANCER, "192.0.2.66, 198.51.100.1, 10.0.0.5, 10.0.0.9") == "198.51.100.1"
    # Only trusted proxies all the way: the furthest one is the best we know.
    assert resolve(BALANCER, "10.0.0.5, 10.0.0.9") == "10.0.0.5"


def test_without_a_forwarded_address_the_trusted_peer_is_the_client() -> None:
    for header in (None, "", " , ,"):
        assert resolve(BALANCER, header) == BALANCER


def test_malformed_entries_end_the_walk_at_the_last_trusted_hop() -> None:
    # Nothing left of a malformed entry can be vouched for: it is never read.
    assert resolve(BALANCER, "198.51.100.1, unknown") == BALANCER
    assert resolve(BALANCER, "198.51.100.1, not-an-ip, 10.0.0.9") == "10.0.0.9"
    assert resolve(BALANCER, "198.51.100.1, 999.1.1.1") == BALANCER
    assert resolve(BALANCER, "198.51.100.1, 10.0.0.0/24") == BALANCER
    assert resolve(BALANCER, "198.51.100.1, [2001:db8::1") == BALANCER
    assert resolve(BALANCER, "198.51.100.1, " + "9" * 5000) == BALANCER
    # Empty list elements are nothing, not garbage (HTTP list syntax).
    assert resolve(BALANCER, "192.0.2.66,, 198.51.100.1 ,") == "198.51.100.1"
    # Garbage left of the client's address is never reached.
    assert resolve(BALANCER, "<script>, 198.51.100.1") == "198.51.100.1"


def test_entries_with_ports_are_their_address() -> None:
    assert resolve(BALANCER, "198.51.100.1:51234") == "198.51.100.1"
    assert resolve(BALANCER, "[2001:db8::1]:443") == "2001:db8::1"


def test_ipv6_peers_and_clients() -> None:
    assert resolve("fd00::2", "2001:db8::1") == "2001:db8::1"
    assert resolve("fd00::2", "2001:db8::66, 2001:DB8:0:0::1, fd00::5") == "2001:db8::1"
    assert resolve("fd00::2", "198.51.100.1") == "198.51.100.1"  # IPv4 client, IPv6 balancer
    assert resolve(BALANCER, "2001:db8::1") == "2001:db8::1"
    assert resolve("fd01::2", "2001:db8::1") == "fd01::2"  # outside fd00::/64
    # A dual-stack socket reports an IPv4 peer as IPv4-mapped IPv6.
    assert resolve("::ffff:10.0.0.2", "198.51.100.1") == "198.51.100.1"
    assert resolve(BALANCER, "::ffff:198.51.100.1") == "198.51.100.1"


def test_cidr_networks_and_single_addresses() -> None:
    trusted = [ip_network("172.16.0.0/12"), ip_network("192.0.2.10/32")]
    assert resolve("172.31.255.254", "198.51.100.1", trusted) == "198.51.100.1"
    assert resolve("172.32.0.1", "198.51.100.1", trusted) == "172.32.0.1"
    assert resolve("192.0.2.10", "198.51.100.1", trusted) == "198.51.100.1"
    assert resolve("192.0.2.11", "198.51.100.1", trusted) == "192.0.2.11"


def test_the_setting_reads_addresses_and_networks() -> None:
    settings = Settings(_env_file=None, trusted_proxies=" 10.0.0.2, 172.16.0.0/12 ,fd00::/8,")
    assert [str(net) for net in settings.trusted_proxies] == [
        "10.0.0.2/32",
        "172.16.0.0/12",
        "fd00::/8",
    ]
    # Host bits under a prefix are dropped, as proxies' own trust lists do.
    assert Settings(_env_file=None, trusted_proxies="10.1.2.3/8").trusted_proxies == [
        ip_network("10.0.0.0/8")
    ]
    assert Settings(_env_file=None, trusted_proxies="").trusted_proxies == []


def test_the_setting_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.2,fd00::/64")
    assert Settings(_env_file=None).trusted_proxies == [
        ip_network("10.0.0.2/32"),
        ip_network("fd00::/64"),
    ]


@pytest.mark.parametrize("bad", ["haproxy", "10.0.0.300", "10.0.0.0/33", "10.0.0.1-10.0.0.9"])
def test_a_bad_entry_is_refused_at_start_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    monkeypatch.setenv("TRUSTED_PROXIES", f"10.0.0.2, {bad}")
    with pytest.raises(ValidationError, match="TRUSTED_PROXIES") as raised:
        Settings(_env_file=None)
    assert bad in str(raised.value)
    assert raised.value.errors()[0]["loc"] == ("trusted_proxies",)


# Through the API: the per-address sign-in limit ------------------------------------------

PROXY_PEER = ("10.9.0.2", 40000)  # the load balancer, as the app's TCP peer


def login(client: TestClient, email: str, password: str, forwarded_for: str | None = None):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for is not None else {}
    return client.post(
        "/api/auth/login", json={"email": email, "password": password}, headers=headers
    )


def spray(client: TestClient, forwarded_for: str) -> None:
    """Fail as many sign-ins as allowed, each for another account (the account limit stays
    untouched), all from `forwarded_for`."""
    for n in range(get_settings().login_max_failures):
        answer = login(client, f"user{n}@example.com", "Summer2026!!!!", forwarded_for)
        assert answer.status_code == 401, answer.text


def test_behind_a_trusted_balancer_failures_count_per_forwarded_address(
    clients: Clients, settings_env
) -> None:
    settings_env(TRUSTED_PROXIES="10.9.0.0/24")
    add_user(Role.AGENT)
    balancer = clients(client=PROXY_PEER)
    spray(balancer, "198.51.100.1")

    locked = login(balancer, "agent@example.com", TEST_PASSWORD, "198.51.100.1")
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) >= 1
    # Another client behind the same balancer signs in: it is not the attacker.
    assert login(balancer, "agent@example.com", TEST_PASSWORD, "198.51.100.2").status_code == 200
    # The attacker cannot escape by prepending another address: the balancer appends the one
    # it saw, and that is the one counted.
    spoofed = login(balancer, "agent@example.com", TEST_PASSWORD, "198.51.100.2, 198.51.100.1")
    assert spoofed.status_code == 429


def test_the_balancer_s_own_header_line_counts_not_the_client_s(
    clients: Clients, settings_env
) -> None:
    """HAProxy adds its own X-Forwarded-For line after any the client sent."""
    settings_env(TRUSTED_PROXIES="10.9.0.2")
    add_user(Role.AGENT)
    balancer = clients(client=PROXY_PEER)
    spray(balancer, "198.51.100.1")

    def with_lines(*lines: str):
        return balancer.post(
            "/api/auth/login",
            json={"email": "agent@example.com", "password": TEST_PASSWORD},
            headers=[("X-Forwarded-For", line) for line in lines],
        )

    # The attacker's own line names someone else; the balancer's line, last, names it.
    assert with_lines("198.51.100.2", "198.51.100.1").status_code == 429
    # Someone else whose browser sent the attacker's address is not locked out.
    assert with_lines("198.51.100.1", "198.51.100.2").status_code == 200


def test_the_console_form_is_limited_by_forwarded_address_too(
    clients: Clients, settings_env
) -> None:
    settings_env(TRUSTED_PROXIES="10.9.0.0/24")
    add_user(Role.AGENT)
    balancer = clients(client=PROXY_PEER, follow_redirects=False)
    spray(balancer, "198.51.100.1")

    def form_login(forwarded_for: str):
        return balancer.post(
            "/api/auth/login",
            data={"email": "agent@example.com", "password": TEST_PASSWORD},
            headers={"X-Forwarded-For": forwarded_for},
        )

    assert "error=locked" in form_login("198.51.100.1").headers["location"]
    assert form_login("198.51.100.2").headers["location"] == "/"


def test_without_trusted_proxies_the_header_is_ignored(clients: Clients, settings_env) -> None:
    settings_env(TRUSTED_PROXIES="")
    add_user(Role.AGENT)
    balancer = clients(client=PROXY_PEER)
    for n in range(get_settings().login_max_failures):  # a new forwarded address every time
        answer = login(balancer, f"user{n}@example.com", "Summer2026!!!!", f"198.51.100.{n}")
        assert answer.status_code == 401
    # Every failure counted against the peer: a fresh forwarded address does not help.
    assert login(balancer, "agent@example.com", TEST_PASSWORD, "203.0.113.50").status_code == 429


def test_a_peer_outside_the_trusted_proxies_cannot_forward(clients: Clients, settings_env) -> None:
    settings_env(TRUSTED_PROXIES="10.9.0.0/24")
    add_user(Role.AGENT)
    direct = clients(client=("203.0.113.9", 5000))  # reached the app without the balancer
    for n in range(get_settings().login_max_failures):
        answer = login(direct, f"user{n}@example.com", "Summer2026!!!!", f"198.51.100.{n}")
        assert answer.status_code == 401
    assert login(direct, "agent@example.com", TEST_PASSWORD, "198.51.100.77").status_code == 429
    # The addresses it claimed were not charged: a real client behind the balancer is fine.
    balancer = clients(client=PROXY_PEER)
    assert login(balancer, "agent@example.com", TEST_PASSWORD, "198.51.100.0").status_code == 200
