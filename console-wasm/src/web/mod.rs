//! The browser side (wasm32 only).

use wasm_bindgen::prelude::*;

/// Starts the console (called by the glue's `init()`).
#[wasm_bindgen(start)]
pub fn start() {}
