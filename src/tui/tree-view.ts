// The detail tree as rows: packetTree (src/output/packet-tree.ts) flattened with expand/collapse
// state, each row keeping its node's byte range for the hex pane.

import type { TreeNode } from '../output/tree.js';

export interface TreeRow {
  /** Path of child indexes, "2.0.1": stable while the packet stays the same. */
  key: string;
  depth: number;
  node: TreeNode;
  hasChildren: boolean;
  open: boolean;
}

/** Rows of the tree under `root` (root itself not shown). */
export function flattenTree(root: TreeNode, expanded: ReadonlySet<string>): TreeRow[] {
  const out: TreeRow[] = [];
  const walk = (nodes: TreeNode[], prefix: string, depth: number) => {
    nodes.forEach((n, i) => {
      const key = prefix ? `${prefix}.${i}` : String(i);
      const hasChildren = !!n.children?.length;
      const open = hasChildren && expanded.has(key);
      out.push({ key, depth, node: n, hasChildren, open });
      if (open) walk(n.children!, key, depth + 1);
    });
  };
  walk(root.children ?? [], '', 0);
  return out;
}

/** What opens first: the LISP message (the last top-level node with children), like a drill-down. */
export function defaultExpanded(root: TreeNode): { expanded: Set<string>; selected: string } {
  const kids = root.children ?? [];
  let at = -1;
  kids.forEach((n, i) => {
    if (n.children?.length && /LISP|Locator\/ID/.test(n.label)) at = i;
  });
  if (at < 0) return { expanded: new Set(), selected: '0' };
  return { expanded: new Set([String(at)]), selected: String(at) };
}

/** Every key with children (expand all). */
export function allKeys(root: TreeNode): Set<string> {
  const out = new Set<string>();
  const walk = (nodes: TreeNode[], prefix: string) =>
    nodes.forEach((n, i) => {
      const key = prefix ? `${prefix}.${i}` : String(i);
      if (n.children?.length) {
        out.add(key);
        walk(n.children, key);
      }
    });
  walk(root.children ?? [], '');
  return out;
}

export function treeRowText(r: TreeRow): string {
  return `${'  '.repeat(r.depth)}${r.hasChildren ? (r.open ? '▾ ' : '▸ ') : '  '}${r.node.label}`;
}

/**
 * The bytes a node stands for: its own range, or for a group drawn over bits (flags), the span of
 * its children's ranges.
 */
export function nodeRange(n: TreeNode): { start: number; end: number } | undefined {
  if (n.end > n.start) return { start: n.start, end: n.end };
  let start = Infinity;
  let end = -Infinity;
  for (const c of n.children ?? []) {
    const r = nodeRange(c);
    if (!r) continue;
    start = Math.min(start, r.start);
    end = Math.max(end, r.end);
  }
  return end > start ? { start, end } : undefined;
}
