//! The socket protocol: `berth_proto::read_frame` (4-byte big-endian
//! length, then that many bytes of JSON) into a `Request` (CNI verbs and
//! the operator's admin requests), and into the `Response` the plugin and
//! the CLI read back.
//!
//! Input: when it starts with `{`, it is a frame body and the target puts
//! the length in front (so mutations of the JSON stay well framed);
//! otherwise it is the raw byte stream, length prefix included.
//!
//! Properties:
//! * a length over `MAX_FRAME_BYTES` is refused as too large, with only the
//!   4 length bytes read;
//! * a stream shorter than its length says is an I/O error, never a
//!   partial message;
//! * a frame decodes exactly when its body is one JSON value of the
//!   message type (nothing trailing), and reads exactly 4 + length bytes;
//! * what decodes round-trips: written with `write_frame` and read back it
//!   is equal, or `write_frame` refuses it and only because the JSON is
//!   over the limit.

#![no_main]

use berth_proto::admin::AdminRequest;
use berth_proto::{read_frame, write_frame, FrameError, Request, Response, MAX_FRAME_BYTES};
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt::Debug;

fuzz_target!(|data: &[u8]| {
    let framed;
    let stream: &[u8] = if data.first() == Some(&b'{') {
        let len = u32::try_from(data.len()).expect("fuzz inputs are small");
        framed = [len.to_be_bytes().as_slice(), data].concat();
        &framed
    } else {
        data
    };
    check::<Request>(stream);
    check::<Response>(stream);
    // An admin request is also a message of its own shape.
    check::<AdminRequest>(stream);
});

fn check<T>(stream: &[u8])
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let mut rest = stream;
    let result = read_frame::<T>(&mut rest);
    let consumed = stream.len() - rest.len();
    let Some(prefix) = stream.get(..4) else {
        assert!(matches!(result, Err(FrameError::Io(_))), "{result:?}");
        return;
    };
    let len = u32::from_be_bytes(prefix.try_into().expect("4 bytes"));
    if len > MAX_FRAME_BYTES {
        assert!(
            matches!(result, Err(FrameError::TooLarge { len_bytes }) if len_bytes == u64::from(len)),
            "length {len} not refused: {result:?}"
        );
        assert_eq!(consumed, 4, "read past the length of an oversized frame");
        return;
    }
    let Some(body) = stream.get(4..4 + len as usize) else {
        assert!(matches!(result, Err(FrameError::Io(_))), "{result:?}");
        return;
    };
    assert_eq!(consumed, 4 + len as usize);
    let direct = serde_json::from_slice::<T>(body);
    match (result, direct) {
        (Ok(message), Ok(same)) => {
            assert_eq!(message, same);
            round_trip(&message);
        }
        (Err(FrameError::Decode(_)), Err(_)) => {}
        (framed, direct) => panic!("frame {framed:?} disagrees with its body {direct:?}"),
    }
}

fn round_trip<T>(message: &T)
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let body = serde_json::to_vec(message).expect("decoded messages serialise");
    let mut frame = Vec::new();
    match write_frame(&mut frame, message) {
        Ok(()) => {
            assert_eq!(frame.len(), 4 + body.len());
            let back: T = read_frame(&mut frame.as_slice()).expect("own frame reads back");
            assert_eq!(&back, message, "round trip changed the message");
        }
        Err(FrameError::TooLarge { len_bytes }) => {
            assert_eq!(len_bytes, body.len() as u64);
            assert!(len_bytes > u64::from(MAX_FRAME_BYTES));
        }
        Err(other) => panic!("writing {message:?} failed: {other}"),
    }
}
