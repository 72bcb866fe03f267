#!/usr/bin/env python3
"""Run a command and write its resource usage, as wait4(2) reports it, to a JSON file.

Usage: rusage.py OUT.json COMMAND [ARGS...]
Writes {"maxrss_kib", "user_secs", "sys_secs", "voluntary_switches", "involuntary_switches",
"status"}; stdout/stderr pass through and the
exit status is the command's. Used by benches/poll.rs for both certwatch and the Python
baseline, so each poll's CPU is measured the same way, per process, with microsecond
resolution (GNU time prints two decimals). `maxrss_kib` is only a fallback: Linux charges the
forked wrapper's memory before `exec` to it, so the children report their own VmHWM.
"""

import json
import os
import subprocess
import sys


def main():
    out, cmd = sys.argv[1], sys.argv[2:]
    child = subprocess.Popen(cmd)
    _, status, usage = os.wait4(child.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(
            {
                "maxrss_kib": usage.ru_maxrss,
                "user_secs": usage.ru_utime,
                "sys_secs": usage.ru_stime,
                "voluntary_switches": usage.ru_nvcsw,
                "involuntary_switches": usage.ru_nivcsw,
                "status": code,
            },
            f,
        )
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()
