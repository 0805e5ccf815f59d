"""Writes the benchmark's package graph as wheels: python3 pypi-graph.py OUTDIR [N]

N projects (default 100), each with versions 1.0, 2.0 and 3.0. Version 3.0 of every fifth
project needs a version of a later project that does not exist, so the resolver must back
off to 2.0; every version depends on two or three later projects.
"""
import os, random, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures"))
from make_wheel import mk  # noqa: E402

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 100
random.seed(7)
os.makedirs(out, exist_ok=True)
for i in range(n):
    later = list(range(i + 1, n))
    deps = random.sample(later, min(len(later), random.choice([2, 3])))
    for major in (1, 2, 3):
        reqs = [f"bench{j:03d}>={min(major, 2)}.0" for j in deps]
        if major == 3 and i % 5 == 0 and deps:
            reqs.append(f"bench{deps[0]:03d}>=9.0")
        mk(out, f"bench{i:03d}", f"{major}.0", requires=reqs)
