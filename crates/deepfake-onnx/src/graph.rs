//! Reading and editing the serialised ONNX graph: stable input/output names and the
//! structural checks a runtime relies on.

use std::collections::{BTreeMap, HashMap, HashSet};

use onnx_ir::{GraphProto, Message, ModelProto, ValueInfoProto};
use serde::Serialize;

use crate::error::{OnnxError, Result};

/// The ONNX operator set the exporter targets.
pub const OPSET: i64 = 18;

/// Name, element type and shape of a graph input or output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TensorSummary {
    /// Graph name (`input`, `logits`, `p_fake`).
    pub name: String,
    /// ONNX element type (`float32`, `int64`, ...).
    pub dtype: String,
    /// Axis sizes; a dynamic axis is its symbol (`batch`).
    pub shape: Vec<String>,
}

/// What a checked graph holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GraphSummary {
    /// ONNX IR version of the file.
    pub ir_version: i64,
    /// Default-domain operator set.
    pub opset: i64,
    /// Graph inputs (weights excluded).
    pub inputs: Vec<TensorSummary>,
    /// Graph outputs.
    pub outputs: Vec<TensorSummary>,
    /// Nodes in the graph.
    pub nodes: usize,
    /// Nodes per operator type, e.g. `Conv: 53`.
    pub operators: BTreeMap<String, usize>,
    /// Embedded weight tensors.
    pub initializers: usize,
    /// Bytes of embedded weight data.
    pub weight_bytes: usize,
}

fn decode(bytes: &[u8]) -> Result<ModelProto> {
    ModelProto::parse_from_bytes(bytes).map_err(|e| OnnxError::Protobuf(e.to_string()))
}

fn graph_of(model: &ModelProto) -> Result<&GraphProto> {
    model
        .graph
        .as_ref()
        .ok_or_else(|| OnnxError::Structure("the model has no graph".into()))
}

/// Renames the graph's inputs and outputs, in order, to `inputs` and `outputs` (every use by
/// a node follows), and sets the producer to this project.
pub fn rename_graph_io(bytes: &[u8], inputs: &[&str], outputs: &[&str]) -> Result<Vec<u8>> {
    let mut model = decode(bytes)?;
    let graph = model
        .graph
        .as_mut()
        .ok_or_else(|| OnnxError::Structure("the model has no graph".into()))?;
    let runtime_inputs: Vec<String> = runtime_inputs(graph)
        .into_iter()
        .map(|v| v.name.clone())
        .collect();
    if runtime_inputs.len() != inputs.len() || graph.output.len() != outputs.len() {
        return Err(OnnxError::Structure(format!(
            "expected {} input(s) and {} output(s), the graph has {} and {}",
            inputs.len(),
            outputs.len(),
            runtime_inputs.len(),
            graph.output.len()
        )));
    }
    let mut renames: HashMap<String, String> = HashMap::new();
    for (old, new) in runtime_inputs.iter().zip(inputs) {
        renames.insert(old.clone(), new.to_string());
    }
    for (value, new) in graph.output.iter().zip(outputs) {
        renames.insert(value.name.clone(), new.to_string());
    }
    let rename = |name: &mut String| {
        if let Some(new) = renames.get(name.as_str()) {
            *name = new.clone();
        }
    };
    for value in graph
        .input
        .iter_mut()
        .chain(graph.output.iter_mut())
        .chain(graph.value_info.iter_mut())
    {
        rename(&mut value.name);
    }
    for node in graph.node.iter_mut() {
        node.input.iter_mut().for_each(&rename);
        node.output.iter_mut().for_each(&rename);
    }
    model.producer_name = "deepfake-detection".into();
    model.producer_version = env!("CARGO_PKG_VERSION").into();
    model.doc_string = "Deepfake image detector: ResNeXt-50 32x4d -> BiLSTM -> MLP. \
                        input: ImageNet-normalised RGB; logits: [real, fake]; p_fake: P(fake)."
        .into();
    model
        .write_to_bytes()
        .map_err(|e| OnnxError::Protobuf(e.to_string()))
}

/// The graph inputs that are not weights.
fn runtime_inputs(graph: &GraphProto) -> Vec<&ValueInfoProto> {
    let weights: HashSet<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
    graph
        .input
        .iter()
        .filter(|v| !weights.contains(v.name.as_str()))
        .collect()
}

/// ONNX `TensorProto.DataType` code -> name and element size in bytes.
fn dtype(code: i32) -> (&'static str, usize) {
    match code {
        1 => ("float32", 4),
        2 => ("uint8", 1),
        3 => ("int8", 1),
        6 => ("int32", 4),
        7 => ("int64", 8),
        9 => ("bool", 1),
        10 => ("float16", 2),
        11 => ("float64", 8),
        16 => ("bfloat16", 2),
        _ => ("unknown", 0),
    }
}

fn summarise(value: &ValueInfoProto) -> TensorSummary {
    let tensor = value.type_.tensor_type();
    let shape = tensor
        .shape
        .dim
        .iter()
        .map(|dim| {
            if dim.has_dim_param() {
                dim.dim_param().to_string()
            } else {
                dim.dim_value().to_string()
            }
        })
        .collect();
    TensorSummary {
        name: value.name.clone(),
        dtype: dtype(tensor.elem_type).0.to_string(),
        shape,
    }
}

/// Checks what a runtime relies on and summarises the graph: opset 18 in the default domain;
/// every node input is a graph input, a weight or the output of an earlier node (the nodes
/// are topologically sorted); no value is produced twice; every graph output is produced;
/// every weight's data has the size its shape and type say; inputs and outputs have a tensor
/// type with a shape.
pub fn check_structure(bytes: &[u8]) -> Result<GraphSummary> {
    let model = decode(bytes)?;
    let graph = graph_of(&model)?;
    let fail = |message: String| Err(OnnxError::Structure(message));
    let opset = model
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map(|o| o.version);
    if opset != Some(OPSET) {
        return fail(format!(
            "default-domain opset is {opset:?}, expected {OPSET}"
        ));
    }
    let mut weight_bytes = 0;
    let mut defined: HashSet<&str> = HashSet::new();
    for tensor in &graph.initializer {
        let (_, size) = dtype(tensor.data_type);
        let count: i64 = tensor.dims.iter().product();
        let expected = count.max(0) as usize * size;
        if size == 0 || tensor.raw_data.len() != expected {
            return fail(format!(
                "weight {} holds {} bytes, its shape {:?} and type {} need {expected}",
                tensor.name,
                tensor.raw_data.len(),
                tensor.dims,
                tensor.data_type
            ));
        }
        weight_bytes += expected;
        defined.insert(&tensor.name);
    }
    for value in graph.input.iter().chain(&graph.output) {
        if !value.type_.has_tensor_type() || value.type_.tensor_type().shape.is_none() {
            return fail(format!("{} has no tensor type with a shape", value.name));
        }
    }
    for value in &graph.input {
        defined.insert(&value.name);
    }
    let mut operators: BTreeMap<String, usize> = BTreeMap::new();
    for (index, node) in graph.node.iter().enumerate() {
        for input in node.input.iter().filter(|i| !i.is_empty()) {
            if !defined.contains(input.as_str()) {
                return fail(format!(
                    "node {index} ({} {}) reads {input}, which is not defined before it",
                    node.op_type, node.name
                ));
            }
        }
        for output in &node.output {
            if !defined.insert(output) {
                return fail(format!("{output} is produced twice (node {index})"));
            }
        }
        *operators.entry(node.op_type.clone()).or_default() += 1;
    }
    for output in &graph.output {
        if !defined.contains(output.name.as_str()) {
            return fail(format!("graph output {} is never produced", output.name));
        }
    }
    Ok(GraphSummary {
        ir_version: model.ir_version,
        opset: OPSET,
        inputs: runtime_inputs(graph).into_iter().map(summarise).collect(),
        outputs: graph.output.iter().map(summarise).collect(),
        nodes: graph.node.len(),
        operators,
        initializers: graph.initializer.len(),
        weight_bytes,
    })
}
