"""The green-thread figures of scripts/bench, measured for Python's eventlet (the Ryu baseline).

Usage: python3 scripts/bench-eventlet.py SPAWN_JOIN PARKED
Prints `BENCH <key> <value>` lines like the tatsu benchmark apps.
"""

import sys
import time
import warnings

warnings.simplefilter("ignore")
import eventlet  # noqa: E402


def resident_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS line in /proc/self/status")


def main():
    spawn_join, parked = int(sys.argv[1]), int(sys.argv[2])

    started = time.perf_counter()
    for i in range(spawn_join):
        eventlet.spawn(lambda i=i: i).wait()
    print(f"BENCH spawn_join_per_s {spawn_join / (time.perf_counter() - started):.0f}")

    started = time.perf_counter()
    done = 0
    while done < spawn_join:
        size = min(1000, spawn_join - done)
        threads = [eventlet.spawn(lambda i=i: i) for i in range(size)]
        for thread in threads:
            thread.wait()
        done += size
    print(f"BENCH spawn_batch_per_s {spawn_join / (time.perf_counter() - started):.0f}")

    eventlet.sleep(0.2)
    before = resident_kib()
    asleep = [0]

    def sleeper():
        asleep[0] += 1
        eventlet.sleep(3600)

    threads = [eventlet.spawn(sleeper) for _ in range(parked)]
    while asleep[0] < parked:
        eventlet.sleep(0.005)
    eventlet.sleep(0.2)
    after = resident_kib()
    print(f"BENCH kib_per_parked {(after - before) / parked:.2f}")
    for thread in threads:
        thread.kill()


if __name__ == "__main__":
    main()
