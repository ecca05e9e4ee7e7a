"""The eventlet chat server (as in eventlet's docs), for comparison with tatsu's examples/chat.

    python3 scripts/bench-chat-eventlet.py PORT
"""
import sys

import eventlet

participants = set()


def read_chat_forever(writer, reader, peer):
    line = reader.readline()
    while line:
        for p in participants:
            try:
                if p is not writer:
                    p.write("%s: %s" % (peer, line))
                    p.flush()
            except socket_errors:
                participants.discard(p)
        line = reader.readline()
    participants.remove(writer)


socket_errors = (OSError,)
port = int(sys.argv[1]) if len(sys.argv) > 1 else 3001
server = eventlet.listen(("127.0.0.1", port), backlog=4096)
while True:
    conn, addr = server.accept()
    writer = conn.makefile("w")
    participants.add(writer)
    eventlet.spawn_n(read_chat_forever, writer, conn.makefile("r"), "%s:%s" % addr)
