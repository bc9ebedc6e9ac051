#!/usr/bin/python3
"""Prints the REAPI root digest BuildStream 1.6 computes for a local directory.

Usage: buildstream_root_digest.py DIRECTORY
Output: one line, <sha256-hex>/<size-in-bytes>

The directory walk, the ordering of entries, the executable-bit and symlink rules and the
protobuf encoding are all BuildStream's own: the tree goes through CASCache.commit(), the method
BuildStream uses to put a staged artifact into its local CAS, and the digest comes back through
CASCache.resolve_ref(). Nothing here re-implements any of it. CASCache needs only a directory for
its repository, which is a throw-away temporary directory.

Run it with /usr/bin/python3: the Debian package `buildstream` installs the module there.
"""

import os
import sys
import tempfile

from buildstream._artifactcache.cascache import CASCache

REF = "cairn/buildstream-digest-check"


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: {} DIRECTORY\n".format(argv[0]))
        return 2
    tree = argv[1]
    if not os.path.isdir(tree):
        sys.stderr.write("{}: not a directory\n".format(tree))
        return 2
    with tempfile.TemporaryDirectory(prefix="bst-cas-") as repo:
        cas = CASCache(repo)
        cas.commit([REF], tree)
        digest = cas.resolve_ref(REF)
        print("{}/{}".format(digest.hash, digest.size_bytes))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
