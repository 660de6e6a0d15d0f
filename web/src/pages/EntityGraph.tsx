import { useCallback, useMemo, type KeyboardEvent } from 'react';
import { useNavigate } from 'react-router-dom';
import {
  Background,
  BaseEdge,
  Controls,
  EdgeLabelRenderer,
  Handle,
  MarkerType,
  MiniMap,
  Position,
  ReactFlow,
  getStraightPath,
  useInternalNode,
  type Edge,
  type EdgeProps,
  type InternalNode,
  type Node,
  type NodeProps,
} from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { Alert, Group, Loader, Stack, Text } from '@mantine/core';
import type { Entity } from '../api.ts';
import { entityRefOf, normalizeRef, parseRef, refPath } from '../refs.ts';
import { INVERSE_OF, RELATION_ORDER, uniqueTargets, useResolvedRefs } from '../relations.ts';

/** Relations followed for the second hop (from the entity's direct neighbours). */
const SECOND_HOP_TYPES = new Set([
  'dependsOn',
  'dependencyOf',
  'providesApi',
  'consumesApi',
  'apiProvidedBy',
  'apiConsumedBy',
  'partOf',
  'hasPart',
  'ownedBy',
]);
const MAX_SECOND_HOP_NODES = 60;
const MAX_PER_NEIGHBOUR = 6;

type EntityNodeData = {
  kind: string;
  label: string;
  ref: string;
  center: boolean;
  unresolved: boolean;
};
type EntityNode = Node<EntityNodeData, 'entity'>;

function EntityNodeView({ data }: NodeProps<EntityNode>) {
  const cls = [
    'pave-node',
    data.center ? 'is-center' : '',
    data.unresolved ? 'is-unresolved' : '',
    data.kind === 'more' ? 'is-more' : '',
  ].join(' ');
  return (
    <div className={cls} title={data.ref}>
      {/* Edges are drawn border to border (see FloatingEdge); the handles only anchor them. */}
      <Handle type="target" position={Position.Top} style={{ opacity: 0, pointerEvents: 'none' }} isConnectable={false} />
      {data.kind !== 'more' && (
        <div className="pave-node-kind">
          {data.kind}
          {data.unresolved ? ' · unresolved' : ''}
        </div>
      )}
      <div className="pave-node-name">{data.label}</div>
      <Handle type="source" position={Position.Bottom} style={{ opacity: 0, pointerEvents: 'none' }} isConnectable={false} />
    </div>
  );
}

function borderPoint(node: InternalNode, other: InternalNode): [number, number] {
  const w = node.measured.width ?? 0;
  const h = node.measured.height ?? 0;
  const cx = node.internals.positionAbsolute.x + w / 2;
  const cy = node.internals.positionAbsolute.y + h / 2;
  const ox = other.internals.positionAbsolute.x + (other.measured.width ?? 0) / 2;
  const oy = other.internals.positionAbsolute.y + (other.measured.height ?? 0) / 2;
  const dx = ox - cx;
  const dy = oy - cy;
  if (dx === 0 && dy === 0) return [cx, cy];
  const sx = dx === 0 ? Infinity : w / 2 / Math.abs(dx);
  const sy = dy === 0 ? Infinity : h / 2 / Math.abs(dy);
  const s = Math.min(sx, sy);
  return [cx + dx * s, cy + dy * s];
}

function FloatingEdge({ id, source, target, markerEnd, style, label, data }: EdgeProps) {
  const primary = Boolean((data as { primary?: boolean } | undefined)?.primary);
  const s = useInternalNode(source);
  const t = useInternalNode(target);
  if (!s || !t) return null;
  const [sourceX, sourceY] = borderPoint(s, t);
  const [targetX, targetY] = borderPoint(t, s);
  const [path, labelX, labelY] = getStraightPath({ sourceX, sourceY, targetX, targetY });
  return (
    <>
      <BaseEdge id={id} path={path} markerEnd={markerEnd} style={style} />
      {label && (
        <EdgeLabelRenderer>
          <div
            className="nodrag nopan pave-edge-label"
            style={{
              position: 'absolute',
              transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)`,
              fontSize: primary ? 11 : 9,
              fontWeight: primary ? 700 : 500,
              zIndex: primary ? 1 : 0,
              padding: '1px 5px',
              borderRadius: 4,
              background: 'var(--mantine-color-body)',
              color: primary ? 'var(--mantine-color-indigo-9)' : 'var(--mantine-color-gray-7)',
              border: `1px solid ${primary ? 'var(--mantine-color-indigo-3)' : 'var(--mantine-color-gray-3)'}`,
              pointerEvents: 'none',
              whiteSpace: 'nowrap',
            }}
          >
            {label}
          </div>
        </EdgeLabelRenderer>
      )}
    </>
  );
}

const nodeTypes = { entity: EntityNodeView };
const edgeTypes = { floating: FloatingEdge };

function typeRank(t: string) {
  const i = RELATION_ORDER.indexOf(t);
  return i === -1 ? 999 : i;
}

function nodeLabel(ref: string, entity: Entity | null | undefined) {
  return entity?.metadata.title ?? parseRef(ref).name;
}

export default function EntityGraph({ entity }: { entity: Entity }) {
  const navigate = useNavigate();
  const centerRef = entityRefOf(entity);
  const centerKey = normalizeRef(centerRef);

  // First hop: every related entity (shares its cache with the Relations tab).
  const hop1Refs = useMemo(() => uniqueTargets(entity), [entity]);
  const hop1 = useResolvedRefs(hop1Refs);

  // Second hop: selected relations of the direct neighbours, a few per neighbour
  // (the rest is summarised by a "+N more" node that opens that neighbour).
  const hop2 = useMemo(() => {
    const seen = new Set([centerKey, ...hop1Refs.map(normalizeRef)]);
    const out: Array<{ ref: string; parent: string }> = [];
    const more = new Map<string, number>();
    if (!hop1.data) return { out, more };
    for (const ref of hop1Refs) {
      const parent = normalizeRef(ref);
      const e = hop1.data.get(parent);
      let taken = 0;
      for (const r of e?.relations ?? []) {
        if (!SECOND_HOP_TYPES.has(r.type)) continue;
        const key = normalizeRef(r.targetRef);
        if (seen.has(key)) continue;
        if (taken >= MAX_PER_NEIGHBOUR || out.length >= MAX_SECOND_HOP_NODES) {
          more.set(parent, (more.get(parent) ?? 0) + 1);
          continue;
        }
        seen.add(key);
        taken++;
        out.push({ ref: r.targetRef, parent });
      }
    }
    return { out, more };
  }, [hop1.data, hop1Refs, centerKey]);
  const hop2Resolved = useResolvedRefs(
    hop2.out.map((h) => h.ref),
    hop1.isSuccess,
  );

  const ready = !hop1.isLoading && !hop2Resolved.isLoading;

  const { nodes, edges } = useMemo(() => {
    const nodes: EntityNode[] = [];
    const edges: Edge[] = [];
    const nodeIds = new Set<string>();
    const edgeIds = new Set<string>();

    const addEdge = (from: string, type: string, to: string, primary: boolean) => {
      const forward = INVERSE_OF[type];
      const [src, label, dst] = forward ? [normalizeRef(to), forward, normalizeRef(from)] : [normalizeRef(from), type, normalizeRef(to)];
      if (!nodeIds.has(src) || !nodeIds.has(dst) || src === dst) return;
      const id = `${src}|${label}|${dst}`;
      if (edgeIds.has(id)) return;
      edgeIds.add(id);
      edges.push({
        id,
        source: src,
        target: dst,
        type: 'floating',
        label,
        data: { primary },
        zIndex: primary ? 1 : 0,
        markerEnd: {
          type: MarkerType.ArrowClosed,
          width: 16,
          height: 16,
          color: primary ? 'var(--mantine-color-indigo-7)' : 'var(--mantine-color-gray-5)',
        },
        style: primary
          ? { stroke: 'var(--mantine-color-indigo-7)', strokeWidth: 1.8 }
          : { stroke: 'var(--mantine-color-gray-5)', strokeWidth: 1 },
      });
    };

    const mkNode = (ref: string, e: Entity | null | undefined, x: number, y: number, center = false, resolvedKnown = true): EntityNode => {
      const p = parseRef(ref);
      const unresolved = !center && resolvedKnown && e === null;
      const label = nodeLabel(ref, e);
      return {
        id: normalizeRef(ref),
        type: 'entity',
        position: { x, y },
        data: { kind: p.kind, label, ref, center, unresolved },
        ariaLabel: `${p.kind} ${label}${center ? ' (this entity)' : unresolved ? ' (unresolved)' : ''}`,
        draggable: true,
        connectable: false,
      };
    };

    const NODE_W = 170;
    nodes.push(mkNode(centerRef, entity, -NODE_W / 2, -24, true));
    nodeIds.add(centerKey);

    // Order neighbours by their relation type so that groups sit together on the ring.
    const typeOf = new Map<string, string>();
    for (const r of entity.relations ?? []) {
      const k = normalizeRef(r.targetRef);
      const prev = typeOf.get(k);
      if (!prev || typeRank(r.type) < typeRank(prev)) typeOf.set(k, r.type);
    }
    const ring1 = hop1Refs
      .filter((r) => normalizeRef(r) !== centerKey)
      .sort((a, b) => typeRank(typeOf.get(normalizeRef(a)) ?? '') - typeRank(typeOf.get(normalizeRef(b)) ?? ''));

    // Radial tree: each neighbour gets an angular span proportional to the nodes hanging
    // from it, sits in the middle of its span, and its own neighbours spread over the span.
    const children = new Map<string, string[]>();
    for (const h of hop2.out) children.set(h.parent, [...(children.get(h.parent) ?? []), h.ref]);
    const outer = (key: string) => (children.get(key)?.length ?? 0) + (hop2.more.has(key) ? 1 : 0);
    const weight = (key: string) => Math.max(1.6, outer(key));
    const totalWeight = ring1.reduce((sum, ref) => sum + weight(normalizeRef(ref)), 0) || 1;
    const minSpan = (2 * Math.PI * 1.6) / totalWeight;
    const r1 = Math.max(220, Math.min(900, 190 / Math.max(minSpan, 0.01)), (ring1.length * 200) / (2 * Math.PI));
    const outerCount = ring1.reduce((sum, ref) => sum + outer(normalizeRef(ref)), 0);
    const r2 = Math.max(r1 + 230, (outerCount * 190) / (2 * Math.PI));
    // Nodes are wide and short: stretch the rings horizontally.
    const SX = 1.3;
    const SY = 0.75;
    const at = (a: number, r: number): [number, number] => [Math.cos(a) * r * SX - NODE_W / 2, Math.sin(a) * r * SY - 24];

    let cursor = -Math.PI / 2;
    for (const ref of ring1) {
      const key = normalizeRef(ref);
      const span = (2 * Math.PI * weight(key)) / totalWeight;
      const mid = cursor + span / 2;
      nodes.push(mkNode(ref, hop1.data?.get(key), ...at(mid, r1), false, hop1.data !== undefined));
      nodeIds.add(key);
      const kids = children.get(key) ?? [];
      const n = outer(key);
      kids.forEach((child, j) => {
        const a = cursor + (span * (j + 0.5)) / n;
        nodes.push(mkNode(child, hop2Resolved.data?.get(normalizeRef(child)), ...at(a, r2 + (j % 2) * 60), false, hop2Resolved.data !== undefined));
        nodeIds.add(normalizeRef(child));
      });
      const extra = hop2.more.get(key);
      if (extra) {
        const a = cursor + (span * (n - 0.5)) / n;
        const id = `more:${key}`;
        const [x, y] = at(a, r2 + ((n - 1) % 2) * 60);
        nodes.push({
          id,
          type: 'entity',
          position: { x, y },
          data: { kind: 'more', label: `+${extra} more`, ref, center: false, unresolved: false },
          ariaLabel: `${extra} more entities related to ${parseRef(ref).name}`,
          connectable: false,
        });
        nodeIds.add(id);
        edges.push({ id: `${key}|more`, source: key, target: id, type: 'floating', style: { stroke: 'var(--mantine-color-gray-5)', strokeDasharray: '4 4' } });
      }
      cursor += span;
    }

    for (const r of entity.relations ?? []) addEdge(centerRef, r.type, r.targetRef, true);
    for (const ref of hop1Refs) {
      const e = hop1.data?.get(normalizeRef(ref));
      for (const r of e?.relations ?? []) {
        if (SECOND_HOP_TYPES.has(r.type)) addEdge(ref, r.type, r.targetRef, false);
      }
    }
    return { nodes, edges };
  }, [entity, centerRef, centerKey, hop1Refs, hop1.data, hop2, hop2Resolved.data]);


  const open = useCallback(
    (id: string) => {
      if (id === centerKey) return;
      const n = nodes.find((x) => x.id === id);
      if (n) navigate(refPath(n.data.ref));
    },
    [centerKey, nodes, navigate],
  );

  const onKeyDown = (ev: KeyboardEvent<HTMLDivElement>) => {
    if (ev.key !== 'Enter') return;
    const el = (ev.target as HTMLElement).closest('.react-flow__node');
    const id = el?.getAttribute('data-id');
    if (id) open(id);
  };

  return (
    <Stack gap="xs">
      <Group justify="space-between">
        <Text size="sm" c="dimmed">
          {entity.metadata.name} and its related entities (plus one more hop of dependencies, APIs, ownership and
          parts). Click a node, or focus it and press Enter, to open it. Drag to pan, scroll or use the controls to
          zoom.
        </Text>
        {(hop1.isFetching || hop2Resolved.isFetching) && <Loader size="xs" aria-label="Loading graph" />}
      </Group>
      {hop1.error && (
        <Alert color="red" title="Could not load related entities">
          {(hop1.error as Error).message}
        </Alert>
      )}
      <div className="pave-graph" onKeyDown={onKeyDown} data-testid="entity-graph" role="group" aria-label={`Dependency graph of ${centerRef}`}>
        {!ready ? (
          <Group justify="center" align="center" h="100%">
            <Loader aria-label="Loading graph" />
          </Group>
        ) : (
        <ReactFlow
          key={centerKey}
          defaultNodes={nodes}
          defaultEdges={edges}
          nodeTypes={nodeTypes}
          edgeTypes={edgeTypes}
          onNodeClick={(_, node) => open(node.id)}
          fitView
          fitViewOptions={{ padding: 0.15 }}
          minZoom={0.1}
          maxZoom={2}
          nodesConnectable={false}
          elementsSelectable
          edgesFocusable={false}
        >
          <Background gap={24} size={1} />
          <Controls showInteractive={false} />
          <MiniMap pannable zoomable ariaLabel="Graph overview" nodeStrokeWidth={3} style={{ width: 150, height: 100 }} />
        </ReactFlow>
        )}
      </div>
    </Stack>
  );
}
