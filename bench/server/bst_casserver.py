"""Starts BuildStream 1.6's reference CAS server (the peer Cairn is measured against).

Usage: /usr/bin/python3 bench/server/bst_casserver.py REPO PORT

Listens on 127.0.0.1:PORT only, with push enabled, using BuildStream's own create_server (a
grpc.server over a ThreadPoolExecutor of 5 x cores workers). Prints one line to stderr when
serving; SIGTERM or SIGINT stop it.
"""
import signal
import sys

from buildstream._artifactcache.casserver import create_server


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: bst_casserver.py REPO PORT")
    repo, port = sys.argv[1], int(sys.argv[2])
    server = create_server(repo, enable_push=True)
    bound = server.add_insecure_port("127.0.0.1:{}".format(port))
    if bound != port:
        sys.exit("bst_casserver: could not listen on 127.0.0.1:{}".format(port))
    server.start()
    print("bst casserver serving on 127.0.0.1:{} repo {}".format(port, repo), file=sys.stderr, flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    server.stop(grace=2).wait()


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    main()
