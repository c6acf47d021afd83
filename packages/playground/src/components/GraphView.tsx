/**
 * The program's graph as the engine draws it (`POST /execute-langgraph/graph`), laid out top-down by
 * dagre and shown with React Flow. Each node carries `data-node-id` and `data-state`; conditional
 * edges are dashed. Clicking a node cycles its breakpoint: none, before, after.
 */
import dagre from "@dagrejs/dagre";
import {
  Background,
  Controls,
  Handle,
  MarkerType,
  Position,
  ReactFlow,
  type Edge,
  type Node,
  type NodeProps,
} from "@xyflow/react";
import { useMemo } from "react";

import type { GraphDrawing } from "../client.ts";
import type { NodeState } from "../run-model.ts";

export type BreakpointMark = "before" | "after" | null;

interface GraphNodeData extends Record<string, unknown> {
  id: string;
  state: NodeState;
  terminal: boolean;
  breakpoint: BreakpointMark;
}

type GraphNode = Node<GraphNodeData, "graphbox">;

const NODE_HEIGHT = 42;
const isTerminal = (id: string): boolean => id === "__start__" || id === "__end__";
const labelOf = (id: string): string => (id === "__start__" ? "start" : id === "__end__" ? "end" : id);
const widthOf = (id: string): number =>
  isTerminal(id) ? 76 : Math.min(280, Math.max(120, labelOf(id).length * 9 + 56));

function GraphboxNode({ data }: NodeProps<GraphNode>) {
  return (
    <div
      className={`gnode gnode-${data.state}${data.terminal ? " gnode-terminal" : ""}`}
      data-node-id={data.id}
      data-state={data.state}
      title={data.terminal ? data.id : `${data.id}: ${data.state} (click: breakpoint)`}
    >
      <Handle type="target" position={Position.Top} isConnectable={false} />
      <span className="gnode-dot" />
      <span className="gnode-label">{labelOf(data.id)}</span>
      {data.breakpoint ? <span className="gnode-bp">⏸ {data.breakpoint}</span> : null}
      <Handle type="source" position={Position.Bottom} isConnectable={false} />
    </div>
  );
}

const nodeTypes = { graphbox: GraphboxNode };

/** Positions from dagre (its x, y are the node's centre; React Flow's the top-left corner). */
function layout(drawing: GraphDrawing): { positions: Map<string, { x: number; y: number }>; edges: Edge[] } {
  const graph = new dagre.graphlib.Graph({ multigraph: true });
  graph.setGraph({ rankdir: "TB", nodesep: 32, ranksep: 44, marginx: 16, marginy: 16 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const node of drawing.graph.nodes) graph.setNode(node.id, { width: widthOf(node.id), height: NODE_HEIGHT });
  const edges: Edge[] = [];
  drawing.graph.edges.forEach((edge, index) => {
    if (!graph.hasNode(edge.source) || !graph.hasNode(edge.target)) return;
    graph.setEdge(edge.source, edge.target, {}, String(index));
    edges.push({
      id: `e${index}`,
      source: edge.source,
      target: edge.target,
      className: edge.conditional ? "gedge-conditional" : "gedge",
      style: edge.conditional ? { strokeDasharray: "6 5" } : {},
      markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16 },
      data: { conditional: edge.conditional },
    });
  });
  dagre.layout(graph);
  const positions = new Map<string, { x: number; y: number }>();
  for (const node of drawing.graph.nodes) {
    const placed = graph.node(node.id);
    positions.set(node.id, { x: placed.x - widthOf(node.id) / 2, y: placed.y - NODE_HEIGHT / 2 });
  }
  return { positions, edges };
}

export interface GraphViewProps {
  drawing: GraphDrawing | null;
  states: ReadonlyMap<string, NodeState>;
  breakpoints: ReadonlyMap<string, "before" | "after">;
  onNodeClick(node: string): void;
  /** Why there is no drawing (the program does not load), or null. */
  problem: string | null;
}

export function GraphView({ drawing, states, breakpoints, onNodeClick, problem }: GraphViewProps) {
  const laid = useMemo(() => (drawing ? layout(drawing) : null), [drawing]);
  const nodes: GraphNode[] = useMemo(
    () =>
      (drawing?.graph.nodes ?? []).map((node) => ({
        id: node.id,
        type: "graphbox",
        position: laid?.positions.get(node.id) ?? { x: 0, y: 0 },
        width: widthOf(node.id),
        height: NODE_HEIGHT,
        data: {
          id: node.id,
          state: states.get(node.id) ?? "idle",
          terminal: isTerminal(node.id),
          breakpoint: breakpoints.get(node.id) ?? null,
        },
      })),
    [drawing, laid, states, breakpoints],
  );
  // A new drawing remounts the view, which fits it to the pane again.
  const key = useMemo(() => (drawing ? JSON.stringify(drawing.graph) : "none"), [drawing]);
  return (
    <div className="graph" data-testid="graph">
      {drawing && laid ? (
        <ReactFlow
          key={key}
          nodes={nodes}
          edges={laid.edges}
          nodeTypes={nodeTypes}
          fitView
          fitViewOptions={{ padding: 0.1, maxZoom: 1.25 }}
          nodesDraggable={false}
          nodesConnectable={false}
          elementsSelectable={false}
          onNodeClick={(_event, node) => {
            if (!isTerminal(node.id)) onNodeClick(node.id);
          }}
          minZoom={0.2}
        >
          <Background gap={18} size={1} />
          <Controls showInteractive={false} />
        </ReactFlow>
      ) : (
        <div className="graph-empty">{problem ?? "Drawing the graph…"}</div>
      )}
      {problem && drawing ? <div className="graph-problem">{problem}</div> : null}
    </div>
  );
}
