"""Shared by the package's tests: the bindings of the repository's WIT
(sdk/wit, the contract itself) and the scripted policy."""

import os

from berth_policy import testing

HERE = os.path.dirname(os.path.abspath(__file__))
SDK = os.path.dirname(os.path.dirname(HERE))
WIT = os.path.join(SDK, "wit")
FIXTURES = os.path.join(SDK, "fixtures")
TEMPLATE_FIXTURES = os.path.join(SDK, "..", "host", "policy-cli", "templates", "fixtures")
BUILD = os.path.join(SDK, "python", "build", "bindings")


def bindings():
    testing.bindings(WIT, BUILD)


def scripted():
    bindings()
    from tests.scripted.app import Policy

    return Policy()
