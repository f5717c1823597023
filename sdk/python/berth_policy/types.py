"""The contract's types, as componentize-py generated them from the WIT.

Re-exported rather than copied: inside a component and in native tests
alike, `wit_world` is generated from the policy's own `wit/policy.wit`, so
these are always the types of the contract the policy is built against.
"""

from wit_world.imports.types import *  # noqa: F401,F403 (the whole interface)
from wit_world.imports.types import Decision, Identity, Request  # noqa: F401
