import { closeSync, openSync, readSync, statSync } from 'node:fs';

/**
 * npm run bench:heap -- <file.heapsnapshot> [--top N]
 *
 * The top holders of a V8 heap snapshot: objects by retained size (what would be freed with them), each with the path
 * that keeps it alive (its chain of dominators from the GC roots, named by the edges between them), and the heap by
 * object kind. Reads snapshots of any size: the node and edge arrays are scanned as bytes, strings decoded on demand.
 * Dominators: Cooper, Harvey and Kennedy's iterative algorithm over a reverse postorder (weak edges ignored).
 */

interface Snapshot {
  nodeFields: string[];
  nodeTypes: string[];
  edgeFields: string[];
  edgeTypes: string[];
  nodes: Float64Array;
  edges: Float64Array;
  stringAt: (i: number) => string;
}

/** Scans the numbers of the JSON array starting at `start` (just after '['). */
function scanNumbers(buf: Buffer, start: number, expected: number): { values: Float64Array; end: number } {
  const values = new Float64Array(expected);
  let n = 0;
  let i = start;
  let current = 0;
  let inNumber = false;
  for (; i < buf.length; i++) {
    const c = buf[i];
    if (c >= 48 && c <= 57) {
      current = current * 10 + (c - 48);
      inNumber = true;
    } else {
      if (inNumber) {
        values[n++] = current;
        current = 0;
        inNumber = false;
      }
      if (c === 93) break;
    }
  }
  return { values: n === expected ? values : values.subarray(0, n), end: i };
}

function readSnapshot(path: string): Snapshot {
  const size = statSync(path).size;
  const buf = Buffer.allocUnsafe(size);
  const fd = openSync(path, 'r');
  let off = 0;
  while (off < size) off += readSync(fd, buf, off, size - off, off);
  closeSync(fd);
  const head = buf.subarray(0, Math.min(size, 1 << 16)).toString('utf8');
  const metaStart = head.indexOf('"snapshot"');
  const nodesKey = buf.indexOf('"nodes":[');
  const meta = JSON.parse(`{${head.slice(metaStart, head.indexOf(',\n"nodes"') > 0 ? head.indexOf(',\n"nodes"') : head.indexOf(',"nodes"'))}}`).snapshot;
  const nodeFields: string[] = meta.meta.node_fields;
  const edgeFields: string[] = meta.meta.edge_fields;
  const nodes = scanNumbers(buf, nodesKey + 9, meta.node_count * nodeFields.length);
  const edgesKey = buf.indexOf('"edges":[', nodes.end);
  const edges = scanNumbers(buf, edgesKey + 9, meta.edge_count * edgeFields.length);
  const stringsKey = buf.indexOf('"strings":[', edges.end);
  // String offsets: each JSON string literal in the array, decoded only when named.
  const offsets: number[] = [];
  let i = stringsKey + 11;
  for (; i < buf.length; i++) {
    const c = buf[i];
    if (c === 93) break;
    if (c !== 34) continue;
    const from = i;
    for (i++; i < buf.length; i++) {
      if (buf[i] === 92) i++;
      else if (buf[i] === 34) break;
    }
    offsets.push(from, i + 1);
  }
  const stringAt = (k: number) => (k * 2 + 1 < offsets.length ? (JSON.parse(buf.subarray(offsets[k * 2], offsets[k * 2 + 1]).toString('utf8')) as string) : '?');
  return { nodeFields, nodeTypes: meta.meta.node_types[0], edgeFields, edgeTypes: meta.meta.edge_types[0], nodes: nodes.values, edges: edges.values, stringAt };
}

function analyse(s: Snapshot, top: number): string[] {
  const NF = s.nodeFields.length;
  const EF = s.edgeFields.length;
  const N = s.nodes.length / NF;
  const fType = s.nodeFields.indexOf('type');
  const fName = s.nodeFields.indexOf('name');
  const fSelf = s.nodeFields.indexOf('self_size');
  const fEdges = s.nodeFields.indexOf('edge_count');
  const eType = s.edgeFields.indexOf('type');
  const eName = s.edgeFields.indexOf('name_or_index');
  const eTo = s.edgeFields.indexOf('to_node');
  const weak = s.edgeTypes.indexOf('weak');
  const shortcut = s.edgeTypes.indexOf('shortcut');
  const firstEdge = new Uint32Array(N + 1);
  for (let n = 0, e = 0; n < N; n++) {
    firstEdge[n] = e;
    e += s.nodes[n * NF + fEdges] * EF;
    firstEdge[n + 1] = e;
  }
  const usable = (e: number) => s.edges[e + eType] !== weak && s.edges[e + eType] !== shortcut;
  // Reverse postorder from the root (node 0), iteratively.
  const order = new Int32Array(N).fill(-1);
  const post: number[] = [];
  const stack: number[] = [0];
  const next = new Uint32Array(N);
  const seen = new Uint8Array(N);
  seen[0] = 1;
  for (let n = 0; n < N; n++) next[n] = firstEdge[n];
  while (stack.length) {
    const n = stack[stack.length - 1];
    if (next[n] < firstEdge[n + 1]) {
      const e = next[n];
      next[n] += EF;
      if (!usable(e)) continue;
      const to = s.edges[e + eTo] / NF;
      if (!seen[to]) {
        seen[to] = 1;
        stack.push(to);
      }
    } else {
      stack.pop();
      post.push(n);
    }
  }
  for (let k = 0; k < post.length; k++) order[post[k]] = k;
  // Predecessors (usable edges between reachable nodes).
  const predCount = new Uint32Array(N + 1);
  for (let n = 0; n < N; n++) {
    if (!seen[n]) continue;
    for (let e = firstEdge[n]; e < firstEdge[n + 1]; e += EF) if (usable(e)) predCount[s.edges[e + eTo] / NF + 1]++;
  }
  for (let n = 0; n < N; n++) predCount[n + 1] += predCount[n];
  const preds = new Uint32Array(predCount[N]);
  const fill = predCount.slice();
  for (let n = 0; n < N; n++) {
    if (!seen[n]) continue;
    for (let e = firstEdge[n]; e < firstEdge[n + 1]; e += EF) if (usable(e)) preds[fill[s.edges[e + eTo] / NF]++] = n;
  }
  const idom = new Int32Array(N).fill(-1);
  idom[0] = 0;
  const intersect = (a: number, b: number) => {
    while (a !== b) {
      while (order[a] < order[b]) a = idom[a];
      while (order[b] < order[a]) b = idom[b];
    }
    return a;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (let k = post.length - 1; k >= 0; k--) {
      const n = post[k];
      if (n === 0) continue;
      let d = -1;
      for (let p = predCount[n]; p < predCount[n + 1]; p++) {
        const q = preds[p];
        if (idom[q] === -1) continue;
        d = d === -1 ? q : intersect(q, d);
      }
      if (d !== -1 && idom[n] !== d) {
        idom[n] = d;
        changed = true;
      }
    }
  }
  const retained = new Float64Array(N);
  for (let n = 0; n < N; n++) retained[n] = seen[n] ? s.nodes[n * NF + fSelf] : 0;
  for (let k = 0; k < post.length; k++) {
    const n = post[k];
    if (n !== 0 && idom[n] >= 0) retained[idom[n]] += retained[n];
  }
  const typeOf = (n: number) => s.nodeTypes[s.nodes[n * NF + fType]];
  const nameOf = (n: number) => {
    const t = typeOf(n);
    const raw = s.stringAt(s.nodes[n * NF + fName]);
    if (t === 'string' || t === 'concatenated string' || t === 'sliced string') return `${t} (${raw.length} chars)`;
    return t === 'object' || t === 'closure' ? raw || t : `(${t}) ${raw.slice(0, 40)}`;
  };
  const edgeName = (from: number, to: number) => {
    for (let e = firstEdge[from]; e < firstEdge[from + 1]; e += EF) {
      if (s.edges[e + eTo] / NF !== to) continue;
      const t = s.edgeTypes[s.edges[e + eType]];
      const v = s.edges[e + eName];
      return t === 'element' || t === 'hidden' ? `[${v}]` : s.stringAt(v);
    }
    return '?';
  };
  // The shortest path from the GC roots (breadth first over strong edges): the chain that keeps an object alive.
  const via = new Int32Array(N).fill(-1);
  const queue = new Int32Array(N);
  let head = 0;
  let tail = 0;
  queue[tail++] = 0;
  via[0] = 0;
  while (head < tail) {
    const n = queue[head++];
    for (let e = firstEdge[n]; e < firstEdge[n + 1]; e += EF) {
      if (!usable(e)) continue;
      const to = s.edges[e + eTo] / NF;
      if (via[to] !== -1) continue;
      via[to] = n;
      queue[tail++] = to;
    }
  }
  const label = (n: number) => {
    const t = typeOf(n);
    if (t === 'synthetic') return s.stringAt(s.nodes[n * NF + fName]);
    return nameOf(n);
  };
  const pathOf = (n: number) => {
    const hops: string[] = [];
    for (let m = n, guard = 0; m !== 0 && via[m] >= 0 && guard < 14; m = via[m], guard++) hops.unshift(`${label(via[m])}.${edgeName(via[m], m)}`);
    return hops.slice(-7).join(' > ').slice(-220);
  };
  const total = retained[0];
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;
  const out: string[] = [`heap ${mb(total)} reachable, ${post.length} objects`];
  // Top holders: of each chain of objects that each hold most (90 %) of the one above, the deepest one (its path shows
  // the chain); at least 1 % of the heap.
  const maxChild = new Float64Array(N);
  for (const n of post) if (n !== 0 && idom[n] >= 0) maxChild[idom[n]] = Math.max(maxChild[idom[n]], retained[n]);
  const listed = post
    .filter((n) => n !== 0 && typeOf(n) !== 'synthetic' && retained[n] >= total * 0.01 && maxChild[n] < 0.9 * retained[n])
    .sort((a, b) => retained[b] - retained[a])
    .slice(0, top);
  for (const n of listed) out.push(`  ${mb(retained[n]).padStart(10)}  ${((100 * retained[n]) / total).toFixed(1).padStart(5)} %  ${nameOf(n)}  <- ${pathOf(n)}`);
  const byKind = new Map<string, number>();
  for (const n of post) {
    const t = typeOf(n);
    const k = t === 'object' ? s.stringAt(s.nodes[n * NF + fName]) : t;
    byKind.set(k, (byKind.get(k) ?? 0) + s.nodes[n * NF + fSelf]);
  }
  out.push('by kind (own size):');
  for (const [k, v] of [...byKind].sort((a, b) => b[1] - a[1]).slice(0, 12)) out.push(`  ${mb(v).padStart(10)}  ${k}`);
  return out;
}

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
const topIndex = args.indexOf('--top');
if (!file) {
  console.error('usage: npm run bench:heap -- <file.heapsnapshot> [--top N]');
  process.exit(2);
}
console.log(analyse(readSnapshot(file), topIndex >= 0 ? Number(args[topIndex + 1]) : 25).join('\n'));
