//! A request frame (4-byte big-endian length, then that much JSON) as it
//! arrives, possibly in pieces and possibly over two owners: an acceptor
//! thread starts reading it and may hand what it has to the async path.
//! The declared length is checked before any body byte is awaited.

use berth_proto::{Request, MAX_FRAME_BYTES};

const LENGTH_BYTES: usize = 4;

#[derive(Debug, Default)]
pub struct FrameBuffer {
    bytes: Vec<u8>,
}

impl FrameBuffer {
    /// How many more bytes the frame needs (0: complete). An error when
    /// the declared length is over the protocol's limit.
    pub fn missing(&self) -> Result<usize, String> {
        if self.bytes.len() < LENGTH_BYTES {
            return Ok(LENGTH_BYTES - self.bytes.len());
        }
        let mut length = [0u8; LENGTH_BYTES];
        length.copy_from_slice(&self.bytes[..LENGTH_BYTES]);
        let body_bytes = u32::from_be_bytes(length);
        if body_bytes > MAX_FRAME_BYTES {
            return Err(format!(
                "request of {body_bytes} bytes exceeds the limit of {MAX_FRAME_BYTES} bytes"
            ));
        }
        Ok(LENGTH_BYTES + body_bytes as usize - self.bytes.len())
    }

    /// Appends bytes read from the connection (never more than `missing`).
    pub fn extend(&mut self, read: &[u8]) {
        debug_assert!(self.missing().is_ok_and(|m| read.len() <= m));
        self.bytes.extend_from_slice(read);
    }

    /// The request of a complete frame.
    pub fn decode(&self) -> Result<Request, String> {
        debug_assert_eq!(self.missing(), Ok(0));
        serde_json::from_slice(&self.bytes[LENGTH_BYTES..])
            .map_err(|e| format!("request is not a valid berth message: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame_of(request: &Request) -> Vec<u8> {
        let mut bytes = Vec::new();
        berth_proto::write_frame(&mut bytes, request).expect("encode");
        bytes
    }

    #[test]
    fn a_frame_arriving_byte_by_byte_decodes() {
        let bytes = frame_of(&Request::Status);
        let mut frame = FrameBuffer::default();
        for byte in &bytes {
            assert!(frame.missing().expect("within limits") > 0);
            frame.extend(std::slice::from_ref(byte));
        }
        assert_eq!(frame.missing(), Ok(0));
        assert_eq!(frame.decode(), Ok(Request::Status));
    }

    #[test]
    fn an_oversized_length_is_refused_before_its_body() {
        let mut frame = FrameBuffer::default();
        frame.extend(&(MAX_FRAME_BYTES + 1).to_be_bytes());
        let error = frame.missing().expect_err("too large");
        assert!(error.contains("exceeds the limit"), "{error}");
    }

    #[test]
    fn garbage_of_the_declared_length_is_a_decode_error() {
        let mut frame = FrameBuffer::default();
        frame.extend(&3u32.to_be_bytes());
        frame.extend(b"{x}");
        assert_eq!(frame.missing(), Ok(0));
        assert!(frame.decode().is_err());
    }
}
