//! What each figure draws, read from its SVG: the values at the pixels the chart's axes give
//! them, the texts in their places, the cells in their shades. (The report's own tests check
//! that every figure is written and decodes; these check what it shows.)

mod calibration;
mod confusion;
mod curves;
mod dashboard;
mod robustness;
mod samples;
mod svg;
mod training;
