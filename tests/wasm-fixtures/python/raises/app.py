"""Python policy whose evaluate raises: the host's error must carry the
exception's text (componentize-py prints it to stderr, then traps)."""

from wit_world import exports
from wit_world.exports import policy


def lookup(table, key):
    return table[key]


class Policy(exports.Policy):
    def metadata(self):
        return policy.PolicyMetadata("hostile-python-raises", "0.1.0", "0.1.0")

    def validate_settings(self, settings):
        return None

    def identify(self, settings, request):
        return None

    def evaluate(self, settings, request):
        # An ordinary bug, a few frames deep, with a message to find.
        return lookup({}, f"no pool for {request.pod_name}")
