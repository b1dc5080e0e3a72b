# SPDX-License-Identifier: MIT
"""test_soak: a short soak (tests/soak/soak.py) inside make check: 60
clients churning chat rooms, echoes and control broadcasts for 15 s
(CW_SOAK_SECONDS, CW_SOAK_CLIENTS to change), with the same verdicts as
`make soak`: RSS flat after the warm-up, pools back to idle, no wrong or
missing message, no protocol error, exit 0."""

import os
import sys

import cwtest
from cwtest import case, main

sys.path.insert(0, os.path.join(cwtest.ROOT, "tests", "soak"))
import soak  # noqa: E402


@case(timeout=240)
def short_soak():
    secs = float(os.environ.get("CW_SOAK_SECONDS", "15"))  # fewer messages under emulation
    argv = ["--daemon", cwtest.daemon_path(), "--seconds", str(secs),
            "--clients", os.environ.get("CW_SOAK_CLIENTS", "60"), "--warmup", str(secs / 3)]
    if cwtest.tls_mode():
        argv += ["--tls-cert", os.environ["CW_TLS_CERT"], "--tls-key", os.environ["CW_TLS_KEY"]]
    rc, _ = soak.main(argv)
    assert rc == 0, "the soak failed (its report is above)"


if __name__ == "__main__":
    main()
