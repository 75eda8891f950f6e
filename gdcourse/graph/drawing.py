"""Drawing a computational graph: a layered layout (inputs left, output right) and its matplotlib figure.

Columns are depths (the longest path from an input); within a column, nodes are
sorted by the mean height of their parents, the barycentre heuristic of layered
graph drawing (Sugiyama, Tagawa & Toda 1981), which keeps most edges short.
"""

from __future__ import annotations

from gdcourse.graph.engine import Value, edges, nodes

__all__ = ["draw", "layout"]


def _layers(root):
    """Depth of each node: 0 for inputs, else one more than its deepest parent."""
    depth = {}
    for node in nodes(root):
        depth[node] = 1 + max((depth[p] for p in node.parents), default=-1)
    return depth


def layout(root: Value) -> dict:
    """``{node: (x, y)}``: column = depth; within a column, nodes sorted by the mean height of
    their parents (the barycentre heuristic of layered drawing), which keeps most edges short."""
    columns = {}
    for node, d in _layers(root).items():
        columns.setdefault(d, []).append(node)
    position = {}
    for d in sorted(columns):
        column = columns[d]
        if d > 0:
            column.sort(key=lambda n: -sum(position[p][1] for p in n.parents) / len(n.parents))
        for row, node in enumerate(column):
            position[node] = (2.0 * d, (len(column) - 1) / 2.0 - row)
    return position


def _node_text(node):
    head = node.op if node.op else (node.label or "input")
    if node.op and node.label:
        head = f"{node.label} = {node.op}"
    return f"{head}\ndata {node.data:.4g}\ngrad {node.grad:.4g}"


def draw(root: Value, ax=None, max_nodes: int = 200):
    """Draw the graph of ``root`` with matplotlib, inputs on the left, ``root`` on the right.

    Nodes sit in columns by depth (longest path from an input); each is one text
    box with its label or operation, its data and its grad; each edge is an arrow
    from parent to child. Returns the ``matplotlib.axes.Axes`` (one text per node,
    one arrow patch per edge).
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch

    position = layout(root)
    if len(position) > max_nodes:
        raise ValueError(
            f"draw: the graph has {len(position)} nodes, more than max_nodes={max_nodes} can show readably; "
            "draw a smaller expression or raise max_nodes"
        )
    columns = {}
    for x, _ in position.values():
        columns[x] = columns.get(x, 0) + 1
    if ax is None:
        width = max(4.0, 2.2 * len(columns))
        height = max(3.0, 1.3 * max(columns.values()))
        _, ax = plt.subplots(figsize=(width, height))
    for parent, child in edges(root):
        arrow = FancyArrowPatch(position[parent], position[child], arrowstyle="-|>", mutation_scale=12,
                                shrinkA=28, shrinkB=28, color="0.4")
        ax.add_patch(arrow)
    for node, (x, y) in position.items():
        colour = "#cfe3ff" if not node.parents else ("#ffe2b8" if node is root else "white")
        ax.text(x, y, _node_text(node), ha="center", va="center", fontsize=8, family="monospace",
                bbox={"boxstyle": "round", "facecolor": colour, "edgecolor": "0.3"})
    xs = [p[0] for p in position.values()]
    ys = [p[1] for p in position.values()]
    ax.set_xlim(min(xs) - 1, max(xs) + 1)
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
    ax.set_axis_off()
    return ax
