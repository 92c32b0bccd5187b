import { hierarchy, treemap, treemapSquarify, type HierarchyRectangularNode } from 'd3';
import { CATEGORICAL_FILLS } from './palette';

/**
 * Parameters by module path as treemap cells (d3-hierarchy squarified layout). Input is any
 * tree with per-node totals (lib/model's ModuleNode fits); output is plain rectangles that
 * components/charts draws as SVG.
 */

export interface TreeInput {
  name: string;
  path: string;
  /** Total parameters at or below this node. */
  params: number;
  tensors?: number;
  children: TreeInput[];
}

export interface TreemapCell {
  path: string;
  name: string;
  params: number;
  depth: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** Fill colour, one hue per top-level module. */
  color: string;
  /** Whether the cell is big enough for its label. */
  labelled: boolean;
  leaf: boolean;
}

export interface TreemapOptions {
  /** Deeper modules are merged into their ancestor at this depth, so the SVG stays small. */
  maxDepth?: number;
  /** Cells smaller than this (px²) are not emitted. */
  minArea?: number;
  padding?: number;
}

interface Node {
  name: string;
  path: string;
  own: number;
  children: Node[];
}

/** Cuts the tree at maxDepth and merges single-child chains (`model.model.layers` reads as one cell). */
function prune(t: TreeInput, parentPath: string, depth: number, maxDepth: number): Node {
  let cur = t;
  while (cur.children.length === 1 && cur.children[0]!.children.length > 0 && cur.children[0]!.params === cur.params) cur = cur.children[0]!;
  const name = (parentPath && cur.path.startsWith(parentPath + '.') ? cur.path.slice(parentPath.length + 1) : cur.path) || t.name;
  // A module whose children are all tensors (weight + bias) is one cell: cells are modules, not tensors.
  const allTensors = cur.children.every((c) => c.children.length === 0);
  if (depth >= maxDepth || cur.children.length === 0 || (depth > 0 && allTensors)) return { name, path: cur.path, own: cur.params, children: [] };
  const kids = cur.children.map((c) => prune(c, cur.path, depth + 1, maxDepth));
  const childSum = cur.children.reduce((s, c) => s + c.params, 0);
  return { name, path: cur.path, own: Math.max(0, cur.params - childSum), children: kids };
}

export function treemapLayout(root: TreeInput, width: number, height: number, opts: TreemapOptions = {}): TreemapCell[] {
  const maxDepth = opts.maxDepth ?? 4;
  const minArea = opts.minArea ?? 2;
  if (width <= 0 || height <= 0 || root.params <= 0) return [];
  const tree = prune(root, '', 0, maxDepth);
  const h = hierarchy<Node>(tree, (d) => d.children)
    .sum((d) => d.own)
    .sort((a, b) => (b.value ?? 0) - (a.value ?? 0));
  const laid: HierarchyRectangularNode<Node> = treemap<Node>()
    .tile(treemapSquarify)
    .size([width, height])
    .paddingInner(opts.padding ?? 1)
    .paddingTop((d) => (d.depth > 0 && d.children && d.y1 - d.y0 > 30 ? 14 : 1))
    .round(true)(h);
  const topColor = new Map<string, string>();
  (laid.children ?? []).forEach((c, i) => topColor.set(c.data.path, CATEGORICAL_FILLS[i % CATEGORICAL_FILLS.length]!));
  const cells: TreemapCell[] = [];
  for (const n of laid.descendants()) {
    if (n.depth === 0) continue;
    const area = (n.x1 - n.x0) * (n.y1 - n.y0);
    if (area < minArea) continue;
    const top = n.ancestors().find((a) => a.depth === 1);
    cells.push({
      path: n.data.path,
      name: n.data.name,
      params: n.value ?? 0,
      depth: n.depth,
      x0: n.x0,
      y0: n.y0,
      x1: n.x1,
      y1: n.y1,
      color: topColor.get(top?.data.path ?? '') ?? '#808080',
      labelled: n.x1 - n.x0 > 40 && n.y1 - n.y0 > 14,
      leaf: !n.children,
    });
  }
  return cells;
}
