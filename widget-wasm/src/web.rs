//! The browser side: DOM, WebSocket, fetch, `localStorage` (wasm32 only).

use wasm_bindgen::prelude::*;

/// Entry point the loader calls once the module is instantiated.
#[wasm_bindgen]
pub fn boot(settings: JsValue) -> Result<(), JsValue> {
    let _ = settings;
    Ok(())
}
