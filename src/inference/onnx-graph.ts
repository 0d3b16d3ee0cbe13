/**
 * A small ONNX graph writer over onnx-proto's protobuf classes: named nodes, float/int64 initializers,
 * typed inputs and outputs, serialized to a ModelProto. There is no maintained npm package that builds
 * ONNX graphs from JavaScript (the ONNX helpers live in Python), so the ~100 lines that name values and
 * fill protobuf fields are written here; the model's architecture is in decoder-graph.ts.
 */
import onnxProto from "onnx-proto"

const { onnx } = onnxProto
type Dim = number | string

export type ElemType = "float" | "int64" | "bool"
const ELEM: Record<ElemType, number> = { float: onnx.TensorProto.DataType.FLOAT, int64: onnx.TensorProto.DataType.INT64, bool: onnx.TensorProto.DataType.BOOL }

type AttrValue = number | ReadonlyArray<number> | { readonly float: number } | { readonly tensor: onnxProto.onnx.ITensorProto }

const valueInfo = (name: string, elem: ElemType, dims: ReadonlyArray<Dim>): onnxProto.onnx.IValueInfoProto => ({
  name,
  type: { tensorType: { elemType: ELEM[elem], shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) } } }
})

const attribute = (name: string, v: AttrValue): onnxProto.onnx.IAttributeProto => {
  const T = onnx.AttributeProto.AttributeType
  if (typeof v === "number") return { name, type: T.INT, i: v }
  if (Array.isArray(v)) return { name, type: T.INTS, ints: [...(v as ReadonlyArray<number>)] }
  if ("float" in (v as object)) return { name, type: T.FLOAT, f: (v as { float: number }).float }
  return { name, type: T.TENSOR, t: (v as { tensor: onnxProto.onnx.ITensorProto }).tensor }
}

export const floatTensor = (name: string, dims: ReadonlyArray<number>, data: Float32Array): onnxProto.onnx.ITensorProto => ({
  name, dims: [...dims], dataType: ELEM.float, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
})

export const int64Tensor = (name: string, values: ReadonlyArray<number>, dims: ReadonlyArray<number> = [values.length]): onnxProto.onnx.ITensorProto => {
  const data = new BigInt64Array(values.map((v) => BigInt(v)))
  return { name, dims: [...dims], dataType: ELEM.int64, rawData: new Uint8Array(data.buffer) }
}

export class GraphBuilder {
  private readonly nodes: Array<onnxProto.onnx.INodeProto> = []
  private readonly inits: Array<onnxProto.onnx.ITensorProto> = []
  private readonly inputs: Array<onnxProto.onnx.IValueInfoProto> = []
  private readonly outputs: Array<onnxProto.onnx.IValueInfoProto> = []
  private readonly constants = new Map<string, string>()
  private counter = 0

  input(name: string, elem: ElemType, dims: ReadonlyArray<Dim>): string {
    this.inputs.push(valueInfo(name, elem, dims))
    return name
  }

  output(name: string, from: string, elem: ElemType, dims: ReadonlyArray<Dim>): void {
    this.op("Identity", [from], {}, name)
    this.outputs.push(valueInfo(name, elem, dims))
  }

  weight(name: string, dims: ReadonlyArray<number>, data: Float32Array): string {
    this.inits.push(floatTensor(name, dims, data))
    return name
  }

  /** An int64 constant (shared by value). */
  ints(values: ReadonlyArray<number>, dims?: ReadonlyArray<number>): string {
    const id = `i64:${values.join(",")}:${dims?.join(",") ?? ""}`
    let name = this.constants.get(id)
    if (name === undefined) {
      name = `const_${this.constants.size}`
      this.inits.push(int64Tensor(name, values, dims))
      this.constants.set(id, name)
    }
    return name
  }

  /** A float scalar constant (shared by value). */
  scalar(value: number): string {
    const id = `f32:${value}`
    let name = this.constants.get(id)
    if (name === undefined) {
      name = `const_${this.constants.size}`
      this.inits.push(floatTensor(name, [], Float32Array.of(value)))
      this.constants.set(id, name)
    }
    return name
  }

  /** Append a node; returns its (single) output's name. */
  op(type: string, inputs: ReadonlyArray<string>, attrs: Record<string, AttrValue> = {}, out?: string): string {
    const name = out ?? `${type.toLowerCase()}_${this.counter++}`
    this.nodes.push({ opType: type, name: `n_${name}`, input: [...inputs], output: [name], attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)) })
    return name
  }

  /** The model as ONNX protobuf bytes (IR 8, default domain at `opset`). */
  encode(opset: number, graphName: string): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: "skymemory",
      opsetImport: [{ domain: "", version: opset }],
      graph: { name: graphName, node: this.nodes, initializer: this.inits, input: this.inputs, output: this.outputs }
    })
    return onnx.ModelProto.encode(model).finish()
  }
}
