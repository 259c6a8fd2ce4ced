"""Who the client is (its address, through trusted proxies only) and how much the login
throttle remembers about clients."""

from __future__ import annotations

from datetime import timedelta
from ipaddress import ip_network

import pydantic
import pytest

from helpline.config import Settings
from helpline.services.throttle import LoginThrottle
from helpline.web.client import client_address
from tests.clock import FrozenClock

PROXIES = [ip_network("10.0.0.0/8"), ip_network("127.0.0.1")]


def test_without_a_trusted_proxy_the_client_is_the_peer_whatever_it_forwards() -> None:
    assert client_address("203.0.113.5", ["198.51.100.1"], []) == "203.0.113.5"
    assert client_address("203.0.113.5", ["198.51.100.1"], PROXIES) == "203.0.113.5"


def test_through_trusted_proxies_the_client_is_the_right_most_address_not_a_proxy() -> None:
    assert client_address("127.0.0.1", ["198.51.100.1, 203.0.113.5"], PROXIES) == "203.0.113.5"
    assert client_address("127.0.0.1", ["198.51.100.1", "203.0.113.5, 10.2.3.4"], PROXIES) == "203.0.113.5"
    assert client_address("127.0.0.1", ["10.9.9.9, 10.2.3.4"], PROXIES) == "10.9.9.9"  # all ours
    assert client_address("127.0.0.1", [], PROXIES) == "127.0.0.1"  # the proxy's own request
    assert client_address("127.0.0.1", ["198.51.100.1, unknown"], PROXIES) == "unknown"  # as passed on
    assert client_address("127.0.0.1", ["203.0.113.5:4711"], PROXIES) == "203.0.113.5"  # ports go
    assert client_address("127.0.0.1", ["[2001:db8::1]:4711"], PROXIES) == "2001:db8::/64"


def test_an_ipv6_client_is_its_64_network_and_a_mapped_ipv4_one_its_ipv4_address() -> None:
    assert client_address("2001:db8:1:2:aaaa::1", [], []) == "2001:db8:1:2::/64"
    assert client_address("2001:db8:1:2:bbbb::7", [], []) == "2001:db8:1:2::/64"
    assert client_address("::ffff:203.0.113.5", [], []) == "203.0.113.5"
    assert client_address("::ffff:127.0.0.1", ["2001:db8::1"], PROXIES) == "2001:db8::/64"
    assert client_address(None, [], []) == "-"  # a Unix socket


def test_trusted_proxies_are_read_as_comma_separated_addresses_or_networks() -> None:
    settings = Settings(trusted_proxies="10.0.0.5, 192.168.0.0/24,fd00::/8")  # type: ignore[arg-type]
    assert settings.trusted_proxies == [ip_network("10.0.0.5/32"), ip_network("192.168.0.0/24"),
                                        ip_network("fd00::/8")]
    assert Settings().trusted_proxies == []
    for bad in ("proxy.example", "10.0.0.1/8", "10.0.0.0/33"):
        with pytest.raises(pydantic.ValidationError):
            Settings(trusted_proxies=bad)  # type: ignore[arg-type]


def test_the_throttle_forgets_clients_after_the_window_and_never_holds_more_than_its_limit() -> None:
    clock = FrozenClock("2026-11-23T10:00:00")
    throttle = LoginThrottle(max_clients=1000)
    for i in range(1500):  # a flood of addresses
        client = f"client-{i}"
        assert throttle.admit(client, "alice", clock.now()) is None
        throttle.finish(client, "alice", clock.now(), succeeded=False)
        clock.at += timedelta(milliseconds=10)
    assert len(throttle) == 1000  # the least recently failing were forgotten
    clock.at += timedelta(minutes=15)
    assert throttle.admit("someone", "bob", clock.now()) is None
    assert len(throttle) == 0  # the window has passed: nothing is kept
    throttle.finish("someone", "bob", clock.now(), succeeded=None)  # an error counts as nothing
    assert len(throttle) == 0
