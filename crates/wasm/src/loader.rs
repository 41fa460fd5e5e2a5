//! The exported `ModelLoader` class: decodes a model handed over section by section, so the
//! whole file is never copied into wasm memory next to the decoded model.

use edgerec_core::Engine;
use edgerec_core::format::{MAX_HEADER_LEN, SectionDecoder};
use wasm_bindgen::prelude::*;

use crate::error;
use crate::recommender::Recommender;

/// `new ModelLoader(prefix, fileLength)`, then `nextSection()` / `push(bytes)` until
/// `nextSection()` is undefined, then `finish()`.
#[wasm_bindgen]
#[derive(Debug)]
pub struct ModelLoader {
    decoder: SectionDecoder,
}

#[wasm_bindgen]
impl ModelLoader {
    /// How many leading bytes of the file (at most) the constructor wants.
    #[wasm_bindgen(js_name = headerPrefixLength)]
    #[must_use]
    pub fn header_prefix_length() -> u32 {
        u32::try_from(MAX_HEADER_LEN).unwrap_or(u32::MAX)
    }

    /// Reads the header from the file's first `headerPrefixLength()` bytes (or all of a shorter
    /// file) and the file's total length.
    #[wasm_bindgen(constructor)]
    pub fn new(prefix: &[u8], file_length: f64) -> Result<ModelLoader, JsValue> {
        let len = if file_length.is_finite() && file_length >= 0.0 {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let n = file_length as u64;
            n
        } else {
            u64::MAX
        };
        let decoder = SectionDecoder::new(prefix, len).map_err(|e| error::format(&e))?;
        Ok(ModelLoader { decoder })
    }

    /// `[offset, length]` of the file bytes to `push` next, or undefined when done.
    #[wasm_bindgen(js_name = nextSection)]
    #[must_use]
    pub fn next_section(&self) -> Option<Vec<f64>> {
        #[allow(clippy::cast_precision_loss)]
        self.decoder
            .next_section()
            .map(|s| vec![s.offset as f64, s.length as f64])
    }

    /// Decodes the bytes of the section `nextSection()` named (the buffer is taken over).
    pub fn push(&mut self, section: Vec<u8>) -> Result<(), JsValue> {
        self.decoder
            .push_section(section)
            .map_err(|e| error::format(&e))
    }

    /// The engine over the decoded model.
    pub fn finish(self) -> Result<Recommender, JsValue> {
        let (model, file) = self.decoder.finish().map_err(|e| error::format(&e))?;
        Ok(Recommender::from_parts(Engine::new(model), file))
    }
}
