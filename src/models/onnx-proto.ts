/**
 * A minimal writer of ONNX models (protocol buffers), for the few messages and fields that
 * `buildMobileNetOnnx` (mobilenet-onnx.ts) needs: model, graph, node, attribute, tensor, value info.
 *
 * Hand-written rather than a protobuf library: none is installed (onnxruntime-node ships no
 * `onnx.proto` bindings and no dependency pulls protobufjs in), and writing is a few dozen lines
 * (varints, length-delimited fields) against the field numbers of
 * https://github.com/onnx/onnx/blob/main/onnx/onnx.proto. Nothing here reads protobuf.
 *
 * @module
 */

/** ONNX `TensorProto.DataType` values used here. */
export const OnnxType = { FLOAT: 1, INT64: 7 } as const;

/** An ONNX tensor element type this writer handles. */
export type OnnxElementType = (typeof OnnxType)[keyof typeof OnnxType];

/** A node attribute: a number is an `INT` unless `float` is set; arrays are `INTS`. */
export type OnnxAttribute = number | string | readonly number[] | { float: number };

/** One graph node. */
export interface OnnxNode {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  attributes?: Readonly<Record<string, OnnxAttribute>>;
}

/** A constant tensor of the graph (weights, shapes). */
export interface OnnxInitializer {
  name: string;
  dims: readonly number[];
  data: Float32Array | BigInt64Array;
}

/** A graph input or output: element type and dimensions (a string is a symbolic dimension). */
export interface OnnxValueInfo {
  name: string;
  type: OnnxElementType;
  dims: readonly (number | string)[];
}

/** A whole model: one graph, the default (`ai.onnx`) operator set. */
export interface OnnxModel {
  opset: number;
  /** IR version matching {@link OnnxModel.opset} (8 for opsets 17–18). */
  irVersion: number;
  producer: string;
  graph: {
    name: string;
    nodes: readonly OnnxNode[];
    initializers: readonly OnnxInitializer[];
    inputs: readonly OnnxValueInfo[];
    outputs: readonly OnnxValueInfo[];
  };
}

const WIRE_VARINT = 0;
const WIRE_FIXED32 = 5;
const WIRE_BYTES = 2;
const encoder = new TextEncoder();

/**
 * Base-128 varint of a non-negative or negative integer (negative int64 values take ten bytes,
 * as protobuf's two's complement encoding).
 */
export function varint(value: number | bigint): Uint8Array {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const key = (field: number, wire: number): Uint8Array => varint((field << 3) | wire);
const int = (field: number, value: number | bigint): Uint8Array => concat([key(field, WIRE_VARINT), varint(value)]);
const bytes = (field: number, value: Uint8Array): Uint8Array => concat([key(field, WIRE_BYTES), varint(value.length), value]);
const str = (field: number, value: string): Uint8Array => bytes(field, encoder.encode(value));
const float = (field: number, value: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, value, true);
  return concat([key(field, WIRE_FIXED32), b]);
};
/** Packed repeated varints (proto3 default for scalar repeated fields). */
const packed = (field: number, values: readonly (number | bigint)[]): Uint8Array => bytes(field, concat(values.map((v) => varint(v))));

/** Little-endian bytes of a typed array (ONNX `raw_data` is little-endian whatever the host). */
function littleEndian(data: Float32Array | BigInt64Array): Uint8Array {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] === 1) return view;
  const out = new Uint8Array(view.length);
  const width = data.BYTES_PER_ELEMENT;
  for (let i = 0; i < view.length; i += width) for (let j = 0; j < width; j++) out[i + j] = view[i + width - 1 - j] as number;
  return out;
}

function tensor(t: OnnxInitializer): Uint8Array {
  const type = t.data instanceof Float32Array ? OnnxType.FLOAT : OnnxType.INT64;
  // TensorProto: dims 1, data_type 2, name 8, raw_data 9.
  return concat([...(t.dims.length > 0 ? [packed(1, t.dims)] : []), int(2, type), str(8, t.name), bytes(9, littleEndian(t.data))]);
}

function attribute(name: string, value: OnnxAttribute): Uint8Array {
  // AttributeProto: name 1, f 2, i 3, s 4, ints 8, type 20 (FLOAT 1, INT 2, STRING 3, INTS 7).
  if (typeof value === 'number') return concat([str(1, name), int(3, value), int(20, 2)]);
  if (typeof value === 'string') return concat([str(1, name), str(4, value), int(20, 3)]);
  if ('float' in value) return concat([str(1, name), float(2, value.float), int(20, 1)]);
  return concat([str(1, name), packed(8, value), int(20, 7)]);
}

function node(n: OnnxNode): Uint8Array {
  // NodeProto: input 1, output 2, name 3, op_type 4, attribute 5.
  return concat([
    ...n.inputs.map((i) => str(1, i)),
    ...n.outputs.map((o) => str(2, o)),
    ...(n.name ? [str(3, n.name)] : []),
    str(4, n.op),
    ...Object.entries(n.attributes ?? {}).map(([name, value]) => bytes(5, attribute(name, value))),
  ]);
}

function valueInfo(v: OnnxValueInfo): Uint8Array {
  // TensorShapeProto.Dimension: dim_value 1, dim_param 2; TensorShapeProto: dim 1.
  const shape = concat(v.dims.map((d) => bytes(1, typeof d === 'number' ? int(1, d) : str(2, d))));
  // TypeProto.Tensor: elem_type 1, shape 2; TypeProto: tensor_type 1; ValueInfoProto: name 1, type 2.
  return concat([str(1, v.name), bytes(2, bytes(1, concat([int(1, v.type), bytes(2, shape)])))]);
}

/** Serialises a model to the bytes of an `.onnx` file (`ModelProto`). */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const g = model.graph;
  // GraphProto: node 1, name 2, initializer 5, input 11, output 12.
  const graph = concat([
    ...g.nodes.map((n) => bytes(1, node(n))),
    str(2, g.name),
    ...g.initializers.map((t) => bytes(5, tensor(t))),
    ...g.inputs.map((v) => bytes(11, valueInfo(v))),
    ...g.outputs.map((v) => bytes(12, valueInfo(v))),
  ]);
  // OperatorSetIdProto: domain 1 (empty: ai.onnx), version 2.
  const opset = int(2, model.opset);
  // ModelProto: ir_version 1, producer_name 2, graph 7, opset_import 8.
  return concat([int(1, model.irVersion), str(2, model.producer), bytes(7, graph), bytes(8, opset)]);
}
