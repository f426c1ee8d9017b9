//! `check_structure` and `rename_graph_io` on the tiny detector's export with one defect
//! put in at a time: each defect is refused with a message naming it, and the summary of the
//! intact graph counts what the file holds.

use std::collections::BTreeMap;

use burn::tensor::Device;
use deepfake_onnx::{ExportOptions, check_structure, export_onnx, rename_graph_io};
use onnx_ir::{GraphProto, Message, ModelProto, TensorProto};

use crate::export::tiny;

/// The tiny detector's ONNX bytes.
fn exported() -> Vec<u8> {
    let device = Device::flex();
    let (model, config) = tiny(&device);
    export_onnx(&model, &config, ExportOptions::default(), &device)
        .unwrap()
        .bytes
}

/// `bytes` with `edit` applied to its graph.
fn edited(bytes: &[u8], edit: impl FnOnce(&mut GraphProto)) -> Vec<u8> {
    let mut proto = ModelProto::parse_from_bytes(bytes).unwrap();
    edit(proto.graph.as_mut().unwrap());
    proto.write_to_bytes().unwrap()
}

/// The structure check's error message for `bytes`.
fn refusal(bytes: &[u8]) -> String {
    check_structure(bytes).unwrap_err().to_string()
}

/// A weight of ONNX type `data_type` and shape `dims`, holding `bytes` bytes of zeros.
fn weight(name: &str, data_type: i32, dims: &[i64], bytes: usize) -> TensorProto {
    let mut tensor = TensorProto::new();
    tensor.name = name.into();
    tensor.data_type = data_type;
    tensor.dims = dims.to_vec();
    tensor.raw_data = vec![0; bytes].into();
    tensor
}

#[test]
fn the_intact_graph_is_summarised_from_its_own_contents() {
    let bytes = exported();
    let summary = check_structure(&bytes).unwrap();
    let proto = ModelProto::parse_from_bytes(&bytes).unwrap();
    let graph = proto.graph.as_ref().unwrap();
    let mut operators: BTreeMap<String, usize> = BTreeMap::new();
    for node in &graph.node {
        *operators.entry(node.op_type.clone()).or_default() += 1;
    }
    assert_eq!(summary.operators, operators);
    assert!(summary.operators["Conv"] > 1, "{:?}", summary.operators);
    assert_eq!(summary.nodes, graph.node.len());
    assert_eq!(summary.initializers, graph.initializer.len());
    let raw: usize = graph.initializer.iter().map(|t| t.raw_data.len()).sum();
    assert_eq!(summary.weight_bytes, raw);
    assert!(raw > 4 * 10_000, "{raw} bytes of weights");
    assert_eq!(summary.opset, 18);
    assert_eq!(summary.inputs.len(), 1);
    assert_eq!(summary.inputs[0].dtype, "float32");
    assert_eq!(summary.inputs[0].shape, ["batch", "3", "64", "64"]);
}

#[test]
fn a_missing_node_or_a_wrong_opset_is_refused() {
    let bytes = exported();
    let mut removed = String::new();
    let broken = edited(&bytes, |graph| {
        removed = graph.node.remove(graph.node.len() / 2).op_type;
    });
    let error = refusal(&broken);
    assert!(
        error.contains("not defined before it") || error.contains("never produced"),
        "removing {removed} gave: {error}"
    );

    let mut proto = ModelProto::parse_from_bytes(&bytes).unwrap();
    proto.opset_import[0].version = 13;
    let error = refusal(&proto.write_to_bytes().unwrap());
    assert!(error.contains("opset"), "{error}");

    // The default domain's opset is the one checked, whatever else is imported before it and
    // whether the domain is written empty or as `ai.onnx`.
    let mut proto = ModelProto::parse_from_bytes(&bytes).unwrap();
    let mut other = proto.opset_import[0].clone();
    other.domain = "com.example".into();
    other.version = 1;
    proto.opset_import.insert(0, other);
    check_structure(&proto.write_to_bytes().unwrap()).unwrap();
    proto.opset_import[1].domain = "ai.onnx".into();
    check_structure(&proto.write_to_bytes().unwrap()).unwrap();
}

#[test]
fn weights_of_every_element_type_are_sized_by_it() {
    let bytes = exported();
    // (ONNX TensorProto.DataType, bytes per element)
    let types = [
        (1, 4),
        (2, 1),
        (3, 1),
        (6, 4),
        (7, 8),
        (9, 1),
        (10, 2),
        (11, 8),
        (16, 2),
    ];
    for (data_type, size) in types {
        let right = edited(&bytes, |graph| {
            graph
                .initializer
                .push(weight("extra", data_type, &[3, 5], 15 * size));
        });
        let summary = check_structure(&right)
            .unwrap_or_else(|e| panic!("type {data_type}, {size} bytes each: {e}"));
        assert_eq!(
            summary.weight_bytes,
            check_structure(&bytes).unwrap().weight_bytes + 15 * size
        );
        let short = edited(&bytes, |graph| {
            graph
                .initializer
                .push(weight("extra", data_type, &[3, 5], 15 * size - 1));
        });
        assert!(
            refusal(&short).contains("weight extra holds"),
            "type {data_type}"
        );
    }
    // An element type the check does not know has no size: refused, not read as 0 bytes.
    let unknown = edited(&bytes, |graph| {
        graph.initializer.push(weight("extra", 99, &[0], 0));
    });
    assert!(refusal(&unknown).contains("weight extra holds"));
}

#[test]
fn element_types_are_named_in_the_summary() {
    let bytes = exported();
    let names = [
        (2, "uint8"),
        (3, "int8"),
        (6, "int32"),
        (7, "int64"),
        (9, "bool"),
        (10, "float16"),
        (11, "float64"),
        (16, "bfloat16"),
        (99, "unknown"),
    ];
    for (code, name) in names {
        let retyped = edited(&bytes, |graph| {
            graph.output[0]
                .type_
                .as_mut()
                .unwrap()
                .mut_tensor_type()
                .elem_type = code;
        });
        assert_eq!(check_structure(&retyped).unwrap().outputs[0].dtype, name);
    }
}

#[test]
fn an_output_without_a_shape_or_produced_twice_is_refused() {
    let bytes = exported();
    let untyped = edited(&bytes, |graph| graph.output[0].type_.clear());
    assert!(refusal(&untyped).contains("has no tensor type with a shape"));
    let shapeless = edited(&bytes, |graph| {
        graph.output[1]
            .type_
            .as_mut()
            .unwrap()
            .mut_tensor_type()
            .shape
            .clear();
    });
    assert!(refusal(&shapeless).contains("has no tensor type with a shape"));
    let twice = edited(&bytes, |graph| {
        let node = graph.node[0].clone();
        graph.node.insert(1, node);
    });
    assert!(refusal(&twice).contains("is produced twice"));
}

#[test]
fn renaming_needs_as_many_names_as_the_graph_has() {
    let bytes = exported();
    let renamed = rename_graph_io(&bytes, &["pixels"], &["a", "b"]).unwrap();
    let summary = check_structure(&renamed).unwrap();
    assert_eq!(summary.inputs[0].name, "pixels");
    assert_eq!(
        summary
            .outputs
            .iter()
            .map(|o| o.name.as_str())
            .collect::<Vec<_>>(),
        ["a", "b"]
    );
    for (inputs, outputs) in [(&["x"][..], &["a"][..]), (&["x", "y"], &["a", "b"])] {
        let error = rename_graph_io(&bytes, inputs, outputs)
            .unwrap_err()
            .to_string();
        assert!(error.contains("the graph has 1 and 2"), "{error}");
    }
}
