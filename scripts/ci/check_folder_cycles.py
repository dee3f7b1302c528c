#!/usr/bin/env python3
"""Fails when the folders of a Swift module depend on each other in a cycle.

A folder depends on another when one of its files names a type (struct, class, enum, actor,
protocol, typealias) declared at the top level of a file in the other. Name matching is textual,
so a nested type that shares a top-level type's name can show a false edge; the output names the
types behind every edge of a cycle. Generated/ holds string tables and is left out.

    python3 scripts/ci/check_folder_cycles.py [Sources/Server]
"""
import collections
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "Sources/Server"
declaration = re.compile(r"^(?:public |final |package )*(?:struct|class|enum|actor|protocol|typealias)\s+(\w+)", re.M)
files = {}
for folder, _, names in os.walk(root):
    relative = os.path.relpath(folder, root)
    if relative.split(os.sep)[0] == "Generated":
        continue
    for name in names:
        if name.endswith(".swift"):
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                files[os.path.join(folder, name)] = (relative, f.read())
owner = {}
for relative, text in files.values():
    for match in declaration.finditer(text):
        owner[match.group(1)] = relative
edges = collections.defaultdict(set)
for path, (relative, text) in files.items():
    for name, folder in owner.items():
        if folder != relative and re.search(r"\b" + name + r"\b", text):
            edges[(relative, folder)].add(f"{name} in {os.path.basename(path)}")
graph = collections.defaultdict(set)
for a, b in edges:
    graph[a].add(b)

# Tarjan's strongly connected components: any component of two or more folders is a cycle.
index, low, stack, on_stack, cycles, counter = {}, {}, [], set(), [], [0]
def visit(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on_stack.add(v)
    for w in graph[v]:
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on_stack:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        component = []
        while True:
            w = stack.pop()
            on_stack.discard(w)
            component.append(w)
            if w == v:
                break
        if len(component) > 1:
            cycles.append(sorted(component))
for v in sorted(set(graph) | {b for _, b in edges}):
    if v not in index:
        visit(v)
for cycle in cycles:
    print(f"folder cycle in {root}: {' ↔ '.join(cycle)}")
    for a in cycle:
        for b in cycle:
            if (a, b) in edges:
                print(f"  {a} → {b}: {', '.join(sorted(edges[(a, b)]))}")
if cycles:
    sys.exit(1)
print(f"{root}: {len({f for f, _ in files.values()})} folders, {len(edges)} folder dependencies, no cycle")
