#!/usr/bin/python3
"""Overlay whiteouts for a lab host, in one process (ci/lab.sh, while preparing a host).

    whiteout.py UPPER LOWER < paths

Each line of stdin is a path relative to LOWER (e.g. `rc2.d/S01nginx` for LOWER=/etc).
For each, a whiteout (character device 0:0) is made at UPPER/path, which hides LOWER/path
in the overlay mounted from those layers. Missing parent directories are made in UPPER
with the owner and mode of the matching LOWER directory (an upper directory's attributes
are the ones the overlay shows).
"""

import os
import stat
import sys


def make_parents(upper: str, lower: str, rel_dir: str) -> None:
    path = ""
    for part in [p for p in rel_dir.split("/") if p]:
        path = os.path.join(path, part)
        up = os.path.join(upper, path)
        if os.path.isdir(up):
            continue
        os.mkdir(up)
        try:
            st = os.stat(os.path.join(lower, path))
        except FileNotFoundError:
            continue
        os.chown(up, st.st_uid, st.st_gid)
        os.chmod(up, stat.S_IMODE(st.st_mode))


def main() -> None:
    upper, lower = sys.argv[1], sys.argv[2]
    for line in sys.stdin:
        rel = line.strip().strip("/")
        if not rel or ".." in rel.split("/"):
            continue
        make_parents(upper, lower, os.path.dirname(rel))
        target = os.path.join(upper, rel)
        if os.path.lexists(target):
            if os.path.isdir(target) and not os.path.islink(target):
                import shutil

                shutil.rmtree(target)
            else:
                os.unlink(target)
        os.mknod(target, 0o600 | stat.S_IFCHR, os.makedev(0, 0))


if __name__ == "__main__":
    main()
