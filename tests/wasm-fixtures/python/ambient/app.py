"""Hostile Python policy: evaluate reaches for every ambient capability a
Python program expects (files, environment, sockets, clocks, randomness,
sleeping) and reports what it got, as JSON in a Reject reason, so the
runtime's tests can check the sandbox gives it nothing and never waits.
"""

import json
import os
import random
import socket
import time

from wit_world import exports
from wit_world.exports import policy
from wit_world.imports import types


def attempt(what):
    try:
        return {"ok": repr(what())[:200]}
    except BaseException as error:  # noqa: BLE001 - reporting is the point
        return {"error": type(error).__name__}


def connect():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.connect(("10.0.0.1", 80))
    return s


def sleep():
    before = time.monotonic()
    time.sleep(10)
    return time.monotonic() - before


class Policy(exports.Policy):
    def metadata(self):
        return policy.PolicyMetadata("hostile-python-ambient", "0.1.0", "0.1.0")

    def validate_settings(self, settings):
        return None

    def identify(self, settings, request):
        return None

    def evaluate(self, settings, request):
        report = {
            "read_file": attempt(lambda: open("/etc/hostname").read()),
            "list_root": attempt(lambda: os.listdir("/")),
            "environ": dict(os.environ),
            "socket": attempt(connect),
            "resolve": attempt(lambda: socket.getaddrinfo("localhost", 80)),
            "time": time.time(),
            "random": random.random(),
            "urandom": os.urandom(8).hex(),
            "slept": attempt(sleep),
        }
        return types.Decision_Reject(json.dumps(report, sort_keys=True))
