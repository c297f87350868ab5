/**
 * Thin typed wrapper over `onnx-proto` (schema-generated protobufjs code for ONNX 1.10; ort-webgpu.md
 * §2.4): the only file that touches the generated classes, so the graph builder deals in plain
 * objects and this file turns them into bytes and back.
 */
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
export type ModelProto = onnxProto.onnx.IModelProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;
export type AttributeProto = onnxProto.onnx.IAttributeProto;

/** ONNX `TensorProto.DataType` codes used by our graphs. */
export const DataType = {
  FLOAT: 1,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
} as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** Serialises a model to the protobuf bytes `InferenceSession.create` accepts. */
export function encodeModel(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/** Parses protobuf bytes back into a model (round-trip tests and the graph lint). */
export function decodeModel(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}
