"""CPU accounting for bench/server/run.sh: is the machine ours while we measure?

Usage: /usr/bin/python3 bench/server/cpuacct.py ROOT_PID [PID...]

Prints one line "machine_busy_ticks ours_ticks": the busy clock ticks of all CPUs since boot
(/proc/stat: everything but idle and iowait), and the ticks used by the process trees of the
given pids (utime+stime of every live descendant plus cutime+cstime, which hold the reaped
children's). Daemons such as Bazel's server leave run.sh's tree, so their pids are passed too.
run.sh takes two snapshots around a phase; busy minus ours is what other processes (and the
kernel's own threads) used meanwhile.
"""
import os
import sys


def machine_busy():
    with open("/proc/stat") as f:
        fields = f.readline().split()[1:]
    values = [int(v) for v in fields]
    # user nice system idle iowait irq softirq steal guest guest_nice
    idle = values[3] + values[4]
    return sum(values[:8]) - idle


def processes():
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                data = f.read()
        except OSError:
            continue
        # the command name is in parentheses and may contain spaces
        rest = data[data.rindex(")") + 2:].split()
        ppid = int(rest[1])
        utime, stime, cutime, cstime = (int(v) for v in rest[11:15])
        table[int(name)] = (ppid, utime + stime + cutime + cstime)
    return table


def main():
    roots = [int(a) for a in sys.argv[1:]]
    table = processes()
    children = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    ours = 0
    stack = list(roots)
    seen = set()
    while stack:
        pid = stack.pop()
        if pid in seen or pid not in table:
            continue
        seen.add(pid)
        ours += table[pid][1]
        stack.extend(children.get(pid, []))
    print(machine_busy(), ours)


if __name__ == "__main__":
    main()
