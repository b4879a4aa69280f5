"""Absolute links people copy, print or scan: the one place that builds them.

They are built on PUBLIC_URL when it is set, else on the host the current request came
in on. Outside a request (a CLI command, a mail worker) there is no host to guess, so
PUBLIC_URL is needed, or a base the caller names, such as the CLI's local server.
"""
import ipaddress
import os
import re
import socket
import time
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request

from .tokens import looks_valid, normalize


class PublicURLRequired(RuntimeError):
    """An absolute link was asked for outside a request, and no PUBLIC_URL was set."""


def public_base(fallback=None):
    """`scheme://host` links start with, without a trailing slash."""
    public = current_app.config.get("PUBLIC_URL")
    if public:
        return public
    if has_request_context():
        return request.host_url.rstrip("/")
    if fallback:
        return fallback.rstrip("/")
    raise PublicURLRequired(
        "PUBLIC_URL (KITHMEET_PUBLIC_URL) must be set to build links outside a request, "
        "e.g. https://meet.example.org")


def local_base():
    """What `make run` serves (`http://$HOST:$PORT`): the base for links made outside a
    request when PUBLIC_URL is unset (CLI commands, a digest queued by one), since this
    machine is where whoever runs them will look."""
    host = os.environ.get("HOST", "127.0.0.1")
    if host in ("0.0.0.0", "::", ""):  # listening everywhere: this machine answers on loopback
        host = "127.0.0.1"
    return "http://{}:{}".format(f"[{host}]" if ":" in host else host, os.environ.get("PORT", "5000"))


def url_path(endpoint, **values):
    """The path for `endpoint` from the app's URL map, with no request needed.

    Flask's url_for wants SERVER_NAME outside a request; the path alone needs no host, so
    bind the map ourselves. Script name "/": kithmeet is served at the root (PUBLIC_URL
    keeps no path, see config.finalize), so a request's script root never differs.
    """
    current_app.inject_url_defaults(endpoint, values)
    return current_app.url_map.bind("localhost", script_name="/").build(endpoint, values)


def external_url(endpoint, _fallback=None, **values):
    """An absolute link to `endpoint`; `_fallback` is the base used outside a request
    when PUBLIC_URL is unset (instead of raising PublicURLRequired)."""
    return public_base(_fallback) + url_path(endpoint, **values)


# A badge link's path, as badges/qr.py prints it (/B/) or a phone lower-cases it (/b/).
_BADGE_PATH = re.compile(r"/[Bb]/([^/]+)/?")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def badge_token_from(text):
    """The badge token in what a person typed or pasted, or a camera read; None if it holds none.

    Taken: the code itself (any case, spaces, dashes or dots between groups), or a badge link
    of this site: http(s), this site's host (PUBLIC_URL's, or the request's), path /B/<token>
    or /b/<token>, nothing after. A link to another host or scheme is None, whatever its path:
    a QR of someone else's site (or `javascript:`) must not pass for one of our badges, and the
    in-page scanner (static/js/scanner.js `badgeToken`) refuses the same."""
    text = (text or "").strip()
    token = normalize(text)
    if looks_valid(token):
        return token
    if not text.isprintable() or " " in text:  # urlsplit drops tabs and newlines silently
        return None
    try:
        parts = urlsplit(text)
        host = _host(parts)
    except ValueError:  # a port that is not a number, a bracket left open
        return None
    match = _BADGE_PATH.fullmatch(parts.path)
    if (host is None or host not in _site_hosts() or match is None or parts.query or parts.fragment
            or parts.username is not None or parts.password is not None):
        return None
    token = match.group(1).upper()
    return token if looks_valid(token) else None


def _host(parts):
    """`host` or `host:port` of an http(s) URL, the port only when it is not the scheme's own
    (as a browser's URL.host), lower case; None for any other scheme or no host."""
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    port = parts.port
    return parts.hostname if port in (None, _DEFAULT_PORTS[scheme]) else f"{parts.hostname}:{port}"


def _site_hosts():
    """The hosts this site's badge links may name: PUBLIC_URL's and the current request's (a
    trusted host: config.trusted_hosts refuses any other before a view runs)."""
    hosts = set()
    if current_app.config.get("PUBLIC_URL"):
        hosts.add(_host(urlsplit(current_app.config["PUBLIC_URL"])))
    if has_request_context():
        hosts.add(_host(urlsplit(f"{request.scheme}://{request.host}")))
    return hosts - {None}


# Where `make run` suggests phones go when the join link points at this machine itself.
LAN_CACHE_SECONDS = 30
_lan_cache = {"at": float("-inf"), "addresses": []}
# Documentation addresses (RFC 5737, RFC 3849): connecting a UDP socket only picks the
# route and the source address; no packet is sent, so nothing leaves the laptop.
_PROBES = ((socket.AF_INET, "192.0.2.1"), (socket.AF_INET6, "2001:db8::1"))


def is_loopback_host(host):
    """Whether `host` (a name or an address, `[::1]` brackets and `:port` allowed) means
    "this machine only": a phone that opens a link to it reaches itself, not the laptop."""
    host = (host or "").strip().lower().rstrip(".")
    if host.startswith("["):
        host = host[1:].partition("]")[0]
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def lan_addresses():
    """This machine's IPv4 and IPv6 addresses that other devices could reach: no loopback,
    no link-local, no duplicates, IPv4 first. Found without network traffic and cached
    briefly, as every organizer page asks; [] when the system won't say."""
    now = time.monotonic()
    if now - _lan_cache["at"] < LAN_CACHE_SECONDS:
        return list(_lan_cache["addresses"])
    found = []
    try:
        found += [info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None)]
    except (OSError, UnicodeError):
        pass
    for family, probe in _PROBES:
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as udp:
                udp.connect((probe, 9))
                found.append(udp.getsockname()[0])
        except OSError:
            pass
    addresses = []
    for text in found:
        try:
            address = ipaddress.ip_address(str(text).partition("%")[0])
        except ValueError:
            continue
        if not (address.is_loopback or address.is_link_local or address.is_unspecified
                or address.is_multicast) and address not in addresses:
            addresses.append(address)
    addresses.sort(key=lambda address: address.version)
    _lan_cache.update(at=now, addresses=[str(address) for address in addresses])
    return list(_lan_cache["addresses"])


def public_address_problem():
    """None when links point at an address phones can reach; else what the organizer
    pages need to say so: the loopback `base`, and `commands`, one `make run` line per
    address of this laptop (none when it can't tell: the page then says it in words)."""
    try:
        base = public_base()
    except PublicURLRequired:
        return None
    if not is_loopback_host(urlsplit(base).netloc):
        return None
    port = os.environ.get("PORT", "5000")
    try:
        addresses = lan_addresses()
    except Exception:  # noqa: BLE001 - a hint must never take the organizer's page down
        addresses = []
    commands = ["HOST=0.0.0.0 KITHMEET_PUBLIC_URL=http://{}:{} make run".format(
        f"[{address}]" if ":" in address else address, port) for address in addresses]
    return {"base": base, "port": port, "addresses": addresses, "commands": commands}
