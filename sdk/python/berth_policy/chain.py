"""The host's chain rules for a chain of one policy, natively.

`berth-policy test` runs a component in the real host runtime; this runs
the Python class directly, for a quick edit-test loop. It applies the same
rules the host applies (host/core/src/chain.rs), with the same messages,
so a fixture that passes here passes there: the identify phase sees no
candidates, the identity's bindings are fetched and its held addresses put
first, and every decision is checked (a pick must be a current candidate,
or a free address of a current pool while nothing was narrowed).

The Berth repository runs the same fixtures both ways (sdk/fixtures), so
this copy of the rules cannot drift from the host's unnoticed.
"""

import dataclasses
import json
import traceback

from wit_world.imports import types

from . import query

# host/core/src/limits.rs
IDENTITY_KEY_BYTES_MAX = 253
DECISION_CANDIDATES_MAX = 256
DECISION_STRING_BYTES_MAX = 256
CHAIN_BINDINGS_MAX = 16
U64_MAX = 2**64 - 1


@dataclasses.dataclass
class Outcome:
    """How a run ended: `allocated`, `rejected` or `failed`."""

    outcome: str
    reason: str = None
    identity: object = None
    decision: object = None
    picked: object = None


class Illegal(Exception):
    """A policy's answer the host refuses (the chain fails)."""


def settings_text(settings):
    """The settings as the host hands them to a policy: compact JSON."""
    return json.dumps({} if settings is None else settings, separators=(",", ":"))


def validate(policy, settings):
    """The load-time settings check: an error message, or None."""
    try:
        policy.validate_settings(settings)
    except Exception as error:  # componentize_py_types.Err or a bug
        return f"invalid settings: {_error_text(error)}"
    return None


def run(policy, settings, request, bindings=(), assignable=()):
    """Runs `policy` (an instance of the app's `Policy` class) over
    `request` as a one-policy chain. `bindings` are what a stated identity
    holds; `assignable` are free addresses outside the candidates."""
    sample = list(request.candidates)
    # The host's queries see the fixture host's free addresses.
    with query.serving(sample + list(assignable)):
        return _run(policy, settings, request, sample, bindings, assignable)


def _run(policy, settings, request, sample, bindings, assignable):
    try:
        found = policy.identify(
            settings,
            dataclasses.replace(request, candidates=[], identity=None, bindings=[]),
        )
        _check_identity(found)
    except Exception as error:
        return _failed("identify", error)

    state = _State(request, sample)
    held = []
    if found is not None:
        held = list(bindings)[:CHAIN_BINDINGS_MAX]
        state.put_held_first(held, request)
    shown = dataclasses.replace(
        request,
        identity=found,
        bindings=held,
        candidates=state.candidates,
        free_total=min(sum(p.free for p in request.pools), U64_MAX),
    )
    try:
        decision = policy.evaluate(settings, shown)
        state.apply(decision, lambda c: c in sample or c in assignable)
    except Exception as error:
        return _failed("evaluate", error, identity=found)
    if isinstance(decision, types.Decision_Reject):
        reason = decision.value if decision.value.strip() else "(the policy gave no reason)"
        return Outcome("rejected", reason, found, decision)
    return Outcome("allocated", None, found, decision, state.picked)


def _failed(phase, error, identity=None):
    if isinstance(error, Illegal):
        return Outcome("failed", f"invalid: {error}", identity)
    # The host reports an uncaught exception as a trap quoting the
    # guest's stderr, where the traceback's last line is the exception.
    last = traceback.format_exception_only(type(error), error)[-1].strip()
    return Outcome("failed", f"trap: {phase}: {last}", identity)


def _error_text(error):
    value = getattr(error, "value", None)
    return value if isinstance(value, str) else str(error)


def _check_identity(found):
    if found is None:
        return
    size = len(found.key.encode())
    if size == 0 or size > IDENTITY_KEY_BYTES_MAX:
        raise Illegal(f"identity key must be 1..={IDENTITY_KEY_BYTES_MAX} bytes, got {size}")
    if any(c.isspace() or not c.isprintable() for c in found.key):
        raise Illegal("identity key contains whitespace or control characters")


class _State:
    def __init__(self, request, sample):
        self.pools = [p.name for p in request.pools]
        self.candidates = list(sample)
        self.picked = None
        self.narrowed = request.requested is not None

    def put_held_first(self, bindings, request):
        held = [
            types.Candidate(b.pool, b.address)
            for b in bindings
            if b.interface == request.interface
            and b.family == request.family
            and b.pool in self.pools
            and (request.requested is None or request.requested == b.address)
        ]
        if held:
            self.candidates = held + [c for c in self.candidates if c not in held]

    def apply(self, decision, assignable):
        if isinstance(decision, (types.Decision_Abstain, types.Decision_Reject)):
            return
        if isinstance(decision, types.Decision_RestrictPools):
            self._restrict(decision.value)
        elif isinstance(decision, types.Decision_Narrow):
            listed = self._known_subset(decision.value, "narrow")
            if not listed:
                raise Illegal("narrow to no candidates; reject with a reason instead")
            self.candidates = listed
            self.narrowed = True
        elif isinstance(decision, types.Decision_Reorder):
            front = self._known_subset(decision.value, "reorder")
            self.candidates = front + [c for c in self.candidates if c not in front]
        elif isinstance(decision, types.Decision_Pick):
            self._pick(decision.value, assignable)
        else:
            raise Illegal(f"not a decision: {decision!r}")

    def _restrict(self, names):
        seen = set()
        for name in names:
            if name not in self.pools:
                raise Illegal(f"restrict-pools names {json.dumps(name)}, not a current pool")
            if name in seen:
                raise Illegal(f"restrict-pools names {json.dumps(name)} twice")
            seen.add(name)
        if not names:
            raise Illegal("restrict-pools to no pools; reject with a reason instead")
        self.pools = list(names)
        self.candidates = [c for c in self.candidates if c.pool in names]

    def _known_subset(self, listed, what):
        if len(listed) > DECISION_CANDIDATES_MAX:
            raise Illegal(
                f"{what} lists {len(listed)} candidates, more than {DECISION_CANDIDATES_MAX}"
            )
        seen = []
        for c in listed:
            if c not in self.candidates:
                raise Illegal(f"{what} names {c.pool}/{c.address}, not a current candidate")
            if c in seen:
                raise Illegal(f"{what} names {c.address} twice")
            seen.append(c)
        return list(listed)

    def _pick(self, c, assignable):
        too_long = max(len(c.address.encode()), len(c.pool.encode()))
        if too_long > DECISION_STRING_BYTES_MAX:
            raise Illegal("pick has an oversized pool or address")
        listed = c in self.candidates
        legal_unlisted = not self.narrowed and c.pool in self.pools and assignable(c)
        if not (listed or legal_unlisted):
            raise Illegal(f"pick {c.pool}/{c.address} is not a legal candidate")
        self.picked = c
        self.candidates = [c]
        self.narrowed = True
