"""bench/delay.py: hold every packet of an NFQUEUE queue for a fixed time, then accept it.

    python3 bench/delay.py QUEUE_NUM DELAY_MS [READY_FILE]

This kernel has no netem (LAB.md "Latency"), so ci/bench.sh adds latency with iptables:
`-j NFQUEUE --queue-num Q --queue-bypass` sends the lab bridge's packets here, and each one
is released DELAY_MS after it arrived. Python standard library only (raw nfnetlink_queue
over an AF_NETLINK socket): no libnetfilter_queue, nothing to compile. Packets of one queue
get increasing ids and all wait the same time, so they become due in arrival order and one
batch verdict (accept every id up to N) releases all that are due. The queue is fail-open:
when it is full, or this program is gone (`--queue-bypass`), packets pass undelayed rather
than being dropped. READY_FILE is created once the queue is bound. SIGTERM/SIGINT: release
what is held, unbind, exit 0.
"""

import collections
import os
import select
import signal
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
NETLINK_NO_ENOBUFS = 5
SOL_NETLINK = 270
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET, NFQNL_MSG_CONFIG, NFQNL_MSG_VERDICT_BATCH = 0, 2, 3
NFQA_PACKET_HDR, NFQA_VERDICT_HDR = 1, 2
NFQA_CFG_CMD, NFQA_CFG_PARAMS, NFQA_CFG_QUEUE_MAXLEN, NFQA_CFG_MASK, NFQA_CFG_FLAGS = 1, 2, 3, 4, 5
NFQNL_CFG_CMD_BIND, NFQNL_CFG_CMD_UNBIND = 1, 2
NFQNL_COPY_META = 1
NFQA_CFG_F_FAIL_OPEN = 1
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NLMSG_ERROR, NLMSG_DONE = 2, 3
NF_ACCEPT = 1


def attr(kind, payload):
    """One netlink attribute, padded to 4 bytes."""
    head = struct.pack("=HH", 4 + len(payload), kind)
    return head + payload + b"\0" * (-len(payload) % 4)


def message(queue, msg_type, attrs, flags=NLM_F_REQUEST, seq=0):
    """One nfnetlink message to the queue subsystem (nlmsghdr + nfgenmsg + attributes)."""
    body = struct.pack("!BBH", socket.AF_UNSPEC, 0, queue) + b"".join(attrs)
    kind = (NFNL_SUBSYS_QUEUE << 8) | msg_type
    return struct.pack("=IHHII", 16 + len(body), kind, flags, seq, 0) + body


def config(sock, queue, attrs, seq):
    """Sends a config message and raises on the kernel's error answer."""
    sock.send(message(queue, NFQNL_MSG_CONFIG, attrs, NLM_F_REQUEST | NLM_F_ACK, seq))
    data = sock.recv(65536)
    length, kind = struct.unpack_from("=IH", data)
    if kind == NLMSG_ERROR:
        (errno,) = struct.unpack_from("=i", data, 16)
        if errno != 0:
            raise OSError(-errno, f"nfqueue config: {os.strerror(-errno)}")


def packet_ids(data):
    """The packet ids of every NFQNL_MSG_PACKET message in one netlink read."""
    ids, off = [], 0
    while off + 16 <= len(data):
        length, kind = struct.unpack_from("=IH", data, off)
        if length < 16:
            break
        if kind == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
            a = off + 20  # nlmsghdr (16) + nfgenmsg (4)
            while a + 4 <= off + length:
                alen, atype = struct.unpack_from("=HH", data, a)
                if alen < 4:
                    break
                if atype & 0x3FFF == NFQA_PACKET_HDR:
                    ids.append(struct.unpack_from("!I", data, a + 4)[0])
                a += (alen + 3) & ~3
        off += (length + 3) & ~3
    return ids


def main():
    queue, delay = int(sys.argv[1]), float(sys.argv[2]) / 1000
    ready = sys.argv[3] if len(sys.argv) > 3 else None
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    sock.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE: we are root
    sock.setsockopt(SOL_NETLINK, NETLINK_NO_ENOBUFS, 1)
    sock.bind((0, 0))
    config(sock, queue, [attr(NFQA_CFG_CMD, struct.pack("!BxH", NFQNL_CFG_CMD_BIND, 0))], 1)
    config(sock, queue, [attr(NFQA_CFG_PARAMS, struct.pack("!IB", 0, NFQNL_COPY_META))], 2)
    config(sock, queue, [attr(NFQA_CFG_QUEUE_MAXLEN, struct.pack("!I", 65536))], 3)
    flags = struct.pack("!I", NFQA_CFG_F_FAIL_OPEN)
    config(sock, queue, [attr(NFQA_CFG_FLAGS, flags), attr(NFQA_CFG_MASK, flags)], 4)
    if ready:
        open(ready, "w").close()

    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(1))
    held = collections.deque()  # (due, packet id), in arrival order

    def release(upto):
        verdict = attr(NFQA_VERDICT_HDR, struct.pack("!II", NF_ACCEPT, upto))
        sock.send(message(queue, NFQNL_MSG_VERDICT_BATCH, [verdict]))

    while not stopping:
        now = time.monotonic()
        last = None
        while held and held[0][0] <= now:
            last = held.popleft()[1]
        if last is not None:
            release(last)
        timeout = max(0.0, held[0][0] - now) if held else 0.5
        try:
            readable, _, _ = select.select([sock], [], [], timeout)
        except InterruptedError:
            continue
        if readable:
            due = time.monotonic() + delay
            for _ in range(1024):
                try:
                    data = sock.recv(1 << 20, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    break
                held.extend((due, i) for i in packet_ids(data))
    if held:
        release(held[-1][1])
    config(sock, queue, [attr(NFQA_CFG_CMD, struct.pack("!BxH", NFQNL_CFG_CMD_UNBIND, 0))], 5)


if __name__ == "__main__":
    main()
