//! The host kernels' layers built from a backbone's weights, each refusing, by layer name,
//! the forms its kernel does not run.

use crate::error::{Error, Result};
use crate::grouped_conv::GroupedConv;
use crate::layers::{DenseConv, PointwiseConv};
use crate::weights::{ConvWeights, symmetric_padding};

fn unsupported(layer: &str, conv: &ConvWeights, what: &str) -> Error {
    Error::Unsupported {
        layer: layer.into(),
        reason: format!(
            "weights {:?}, stride {:?}, dilation {:?}, groups {}: only {what}",
            conv.dims, conv.stride, conv.dilation, conv.groups
        ),
    }
}

pub(super) fn pointwise(conv: ConvWeights, layer: String) -> Result<PointwiseConv> {
    let [stride, stride_w] = conv.stride;
    let padding = symmetric_padding(conv.padding, &layer)?;
    if conv.dims[2..] != [1, 1] || conv.groups != 1 || stride != stride_w || padding != 0 {
        return Err(unsupported(
            &layer,
            &conv,
            "1x1 convolutions without padding",
        ));
    }
    let [c_out, c_in, _, _] = conv.dims;
    Ok(PointwiseConv {
        weight: conv.weight,
        bias: conv.bias,
        c_in,
        c_out,
        stride,
    })
}

pub(super) fn grouped3x3(conv: ConvWeights, layer: String) -> Result<GroupedConv> {
    let [stride, stride_w] = conv.stride;
    let padding = symmetric_padding(conv.padding, &layer)?;
    if conv.dims[2..] != [3, 3] || conv.dilation != [1, 1] || stride != stride_w || padding != 1 {
        return Err(unsupported(
            &layer,
            &conv,
            "3x3 convolutions with padding 1",
        ));
    }
    let [c_out, c_in_group, _, _] = conv.dims;
    Ok(GroupedConv::new(
        conv.weight,
        conv.bias,
        [c_in_group * conv.groups, c_out],
        conv.groups,
        [3, stride, 1],
    ))
}

pub(super) fn dense(conv: ConvWeights) -> Result<DenseConv> {
    let [stride, stride_w] = conv.stride;
    let [_, _, kernel, kernel_w] = conv.dims;
    let padding = symmetric_padding(conv.padding, "stem")?;
    if kernel != kernel_w || stride != stride_w || conv.groups != 1 || conv.dilation != [1, 1] {
        return Err(unsupported("stem", &conv, "square dense convolutions"));
    }
    let [c_out, c_in, _, _] = conv.dims;
    Ok(DenseConv::new(
        conv.weight,
        conv.bias,
        [c_in, c_out],
        [kernel, stride, padding],
    ))
}
