"""Native tests of a Python policy: bindings, loading, fixtures.

    from berth_policy import testing
    policy = testing.load_policy()          # ./app.py against ./wit
    testing.assert_fixtures(self, policy, "fixtures/*.json")

or from a shell, in the project directory:

    python -m berth_policy.testing fixtures/*.json

`bindings()` runs `componentize-py bindings` on the project's WIT, so the
`wit_world` types a test sees are the ones the component is built with.
The host's `log` import is replaced by `LOG`, a list of (level, message).
"""

import glob
import importlib
import os
import shutil
import subprocess
import sys

LOG = []


def componentize_py():
    """The componentize-py to generate bindings with: $COMPONENTIZE_PY,
    else the one beside this Python (a venv), else the one on PATH."""
    tool = os.environ.get("COMPONENTIZE_PY")
    if tool:
        return tool
    beside = os.path.join(os.path.dirname(sys.executable), "componentize-py")
    if os.access(beside, os.X_OK):
        return beside
    found = shutil.which("componentize-py")
    if found is None:
        raise RuntimeError(
            "componentize-py not found: install the project's requirements.txt, "
            "or set COMPONENTIZE_PY"
        )
    return found


def bindings(wit_dir="wit", out_dir=os.path.join("build", "bindings")):
    """Generates `wit_world` from `wit_dir` into `out_dir`, puts it first
    on sys.path, and stubs the host imports. Idempotent per process."""
    if "wit_world" in sys.modules:
        return
    # componentize-py refuses to write over an earlier run's output, and
    # a stale copy would hide a change of the WIT.
    shutil.rmtree(out_dir, ignore_errors=True)
    subprocess.run(
        [componentize_py(), "-d", wit_dir, "-w", "policy-world", "bindings", out_dir],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    sys.path.insert(0, os.path.abspath(out_dir))
    host = importlib.import_module("wit_world.imports.host")

    def log(level, message):
        LOG.append((level, message))

    host.log = log
    from . import query

    query.install()


def load_policy(module="app", project_dir="."):
    """The `Policy` of `module` in `project_dir`, with the bindings of
    `project_dir/wit` generated first."""
    project_dir = os.path.abspath(project_dir)
    bindings(os.path.join(project_dir, "wit"), os.path.join(project_dir, "build", "bindings"))
    if project_dir not in sys.path:
        sys.path.insert(1, project_dir)
    return importlib.import_module(module).Policy()


def settings_of(project_dir="."):
    """`settings.json` of the project (what `berth-policy test` uses when a
    fixture gives none), else None."""
    import json

    path = os.path.join(project_dir, "settings.json")
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def run_fixtures(policy, pattern, default_settings=None):
    """[(path, mismatches)] for every fixture file matching `pattern`."""
    from . import fixtures

    paths = sorted(glob.glob(pattern))
    if not paths:
        raise FileNotFoundError(f"no fixture matches {pattern}")
    return [(p, fixtures.check(policy, fixtures.load(p), default_settings)) for p in paths]


def assert_fixtures(case, policy, pattern, default_settings=None):
    """One unittest subtest per fixture file matching `pattern`."""
    for path, wrong in run_fixtures(policy, pattern, default_settings):
        with case.subTest(fixture=path):
            case.assertEqual(wrong, [], f"{path}:\n  " + "\n  ".join(wrong))


def main(argv):
    """`python -m berth_policy.testing FIXTURE...`: ./app.py against each
    fixture, printed as `berth-policy test` prints."""
    policy = load_policy()
    settings = settings_of()
    passed = failed = 0
    for pattern in argv or ["fixtures/*.json"]:
        for path, wrong in run_fixtures(policy, pattern, settings):
            if wrong:
                failed += 1
                print(f"FAIL {path}")
                for line in wrong:
                    print(f"     {line}")
            else:
                passed += 1
                print(f"ok   {path}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
