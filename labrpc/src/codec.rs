//! The wire encoding: postcard, with the whole input required to be consumed so that a
//! reply decoded into the wrong type fails loudly instead of half-succeeding.

use serde::Serialize;
use serde::de::DeserializeOwned;

pub(crate) fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, postcard::Error> {
    postcard::to_allocvec(value)
}

pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let (value, rest) = postcard::take_from_bytes::<T>(bytes).map_err(|e| e.to_string())?;
    if rest.is_empty() {
        Ok(value)
    } else {
        Err(format!(
            "{} trailing bytes after the value ({} bytes in all)",
            rest.len(),
            bytes.len()
        ))
    }
}
