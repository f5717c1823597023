"""Native answers to the host's queries (`berth:policy/query`, contract
0.2.0: `is-free`, `free-in-range`, `released-at`), as `berth-policy test`
answers them for a fixture: an address is free when it is one of the
request's sampled candidates or listed in the fixture's `free`; no release
time is known. Bounds and "nonsense means nothing free" follow the SDK's
sdk/src/chain/query.rs.

`testing.bindings()` installs these in place of the generated
`wit_world.imports.query` functions (which cannot run outside a
component) when the contract has that interface; `chain.run` says which
addresses are free for the run in progress.
"""

import contextlib
import importlib
import ipaddress

# sdk/src/limits.rs
QUERY_RANGE_RESULTS_MAX = 256
QUERY_RANGE_SCAN_MAX = 65_536
QUERY_STRING_BYTES_MAX = 256

_free = []  # (pool, ip address) of the run in progress


@contextlib.contextmanager
def serving(assignable):
    """Answers queries from `assignable` (candidates) while in the block."""
    global _free
    before = _free
    _free = [(c.pool, ip) for c in assignable if (ip := _address(c.pool, c.address)) is not None]
    try:
        yield
    finally:
        _free = before


def is_free(pool, address):
    ip = _address(pool, address)
    return ip is not None and (pool, ip) in _free


def free_in_range(pool, first, last, limit):
    first, last = _address(pool, first), _address(pool, last)
    if first is None or last is None or first.version != last.version or first > last:
        return []
    # A fixture host walks at most QUERY_RANGE_SCAN_MAX addresses from `first`.
    end = min(int(last), int(first) + QUERY_RANGE_SCAN_MAX - 1)
    found = sorted(
        {ip for p, ip in _free if p == pool and ip.version == first.version and int(first) <= int(ip) <= end}
    )
    return [str(ip) for ip in found[: min(limit, QUERY_RANGE_RESULTS_MAX)]]


def released_at(pool, address):
    return None


def install():
    """Replaces the generated query imports, if the contract has them."""
    try:
        generated = importlib.import_module("wit_world.imports.query")
    except ModuleNotFoundError:
        return False
    generated.is_free = is_free
    generated.free_in_range = free_in_range
    generated.released_at = released_at
    return True


def _address(pool, address):
    if len(pool.encode()) > QUERY_STRING_BYTES_MAX or len(address.encode()) > QUERY_STRING_BYTES_MAX:
        return None
    try:
        return ipaddress.ip_address(address.strip())
    except ValueError:
        return None
