//! hopeit's stream message codec: every `ser` × `comp` round trips, payloads encoded by Python
//! exactly as hopeit encodes them decode to their JSON, appwire's LZ4 frames carry hopeit's
//! header, the fields follow hopeit's order and reader, and no input makes decoding panic.
//!
//! `streams/fixtures.json` is written by `streams/make_fixtures.py` (see there to regenerate).
#![cfg(feature = "streams")]

use std::io::Write;

use appwire::messages::{
    AUTO_QUEUE, CodecError, Compression, DEFAULT_MAX_DECODED_SIZE, Envelope, Serialization, decode,
    decode_with_limit, encode,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use serde_json::Value;

const SERS: [Serialization; 2] = [Serialization::Json, Serialization::JsonBase64];

fn fixtures() -> Value {
    serde_json::from_str(include_str!("streams/fixtures.json")).expect("fixtures.json is JSON")
}

fn fixture_bytes(value: &Value) -> Vec<u8> {
    STANDARD
        .decode(value.as_str().expect("a fixture is a string"))
        .expect("a fixture is base64")
}

/// The payload over 64 KiB of `make_fixtures.py`, which it does not store.
fn big_payload() -> String {
    let items: Vec<String> = (0..4000)
        .map(|i| format!(r#"{{"n":{},"sku":"sku-{}"}}"#, i % 50, i % 50))
        .collect();
    format!(r#"{{"items":[{}]}}"#, items.join(","))
}

#[test]
fn values_are_spelled_as_hopeit_spells_them() {
    let names: Vec<&str> = Compression::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(
        names,
        [
            "none", "lz4", "lz4:0", "lz4:16", "zip", "zip:1", "zip:9", "gzip", "gzip:1", "gzip:9",
            "bz2", "bz2:1", "bz2:9", "lzma"
        ]
    );
    for c in Compression::ALL {
        assert_eq!(c.as_str().parse::<Compression>().unwrap(), c);
    }
    for s in Serialization::ALL {
        assert_eq!(s.as_str().parse::<Serialization>().unwrap(), s);
    }
    assert_eq!(Serialization::JsonBase64.to_string(), "json+base64");
    assert!(
        matches!("lz4:3".parse::<Compression>(), Err(CodecError::UnknownCompression(v)) if v == "lz4:3")
    );
    assert!(matches!(
        "JSON".parse::<Serialization>(),
        Err(CodecError::UnknownSerialization(_))
    ));
}

#[test]
fn every_serialization_and_compression_round_trips() {
    let json = fixtures()["payload"].as_str().unwrap().as_bytes().to_vec();
    let big = big_payload().into_bytes();
    for ser in SERS {
        for comp in Compression::ALL {
            for payload in [&json, &big] {
                let encoded = encode(ser, comp, payload).unwrap();
                assert_eq!(
                    &decode(ser, comp, &encoded).unwrap(),
                    payload,
                    "{ser} {comp}"
                );
            }
        }
    }
}

#[test]
fn pickle_parses_but_is_never_encoded_or_decoded() {
    for ser in [
        Serialization::Pickle3,
        Serialization::Pickle4,
        Serialization::Pickle5,
    ] {
        assert!(matches!(
            encode(ser, Compression::None, b"{}"),
            Err(CodecError::Pickle(_))
        ));
        assert!(matches!(
            decode(ser, Compression::None, b"\x80\x04K\x01."),
            Err(CodecError::Pickle(_))
        ));
    }
}

#[test]
fn payloads_encoded_by_python_decode_to_their_json() {
    let f = fixtures();
    let json = f["payload"].as_str().unwrap().as_bytes();
    let encoded = f["encoded"].as_object().unwrap();
    assert_eq!(encoded.len(), 28);
    for ser in SERS {
        for comp in Compression::ALL {
            let bytes = fixture_bytes(&encoded[&format!("{ser}|{comp}")]);
            assert_eq!(decode(ser, comp, &bytes).unwrap(), json, "{ser} {comp}");
        }
    }
}

#[test]
fn lz4_frames_of_linked_blocks_made_by_python_decode() {
    let f = fixtures();
    let big = big_payload();
    for ser in SERS {
        let frame = fixture_bytes(&f["big_encoded"][format!("{ser}|lz4")]);
        // FLG 0x48: linked blocks, content size present.
        assert_eq!(frame[..6], [0x04, 0x22, 0x4d, 0x18, 0x48, 0x40], "{ser}");
        assert_eq!(
            decode(ser, Compression::Lz4, &frame).unwrap(),
            big.as_bytes(),
            "{ser}"
        );
    }
}

#[test]
fn lz4_frames_written_have_hopeits_header() {
    let f = fixtures();
    let small = f["small_payload"].as_str().unwrap().as_bytes();
    let python = fixture_bytes(&f["small_lz4_frame"]);
    for comp in [Compression::Lz4, Compression::Lz4L0, Compression::Lz4L16] {
        let ours = encode(Serialization::JsonBase64, comp, small).unwrap();
        // Magic, FLG 0x68, BD 0x40, content size 120, header checksum: byte for byte Python's.
        assert_eq!(ours[..15], python[..15], "{comp}");
        assert_eq!(ours[..7], [0x04, 0x22, 0x4d, 0x18, 0x68, 0x40, 0x78]);
        assert_eq!(ours[ours.len() - 4..], [0, 0, 0, 0], "end mark");
    }
    // Above 64 KiB, linked blocks, as lz4's C library marks them.
    let big = encode(
        Serialization::Json,
        Compression::Lz4,
        big_payload().as_bytes(),
    )
    .unwrap();
    assert_eq!(big[4..6], [0x48, 0x40]);
    assert_eq!(
        u64::from_le_bytes(big[6..14].try_into().unwrap()),
        big_payload().len() as u64
    );
}

#[test]
fn lz4_single_blocks_store_what_does_not_compress() {
    let block_size = |frame: &[u8]| u32::from_le_bytes(frame[15..19].try_into().unwrap());
    // Empty: the header (content size 0), then the end mark.
    let empty = encode(Serialization::Json, Compression::Lz4, b"").unwrap();
    assert_eq!(empty[6..14], [0; 8]);
    assert_eq!(empty[15..], [0; 4]);
    // Repetitive JSON compresses; the block's high bit is clear.
    let json = format!("[{}0]", "1234567890,".repeat(100));
    let frame = encode(Serialization::Json, Compression::Lz4, json.as_bytes()).unwrap();
    assert!(frame.len() < json.len() / 4, "{} bytes", frame.len());
    assert_eq!(block_size(&frame), frame.len() as u32 - 23);
    assert_eq!(
        decode(Serialization::Json, Compression::Lz4, &frame).unwrap(),
        json.as_bytes()
    );
    // Base64 of random bytes does not: stored as it is, its size's high bit set.
    let mut seed = 7u64;
    let noise: Vec<u8> = (0..3_000)
        .map(|_| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 56) as u8
        })
        .collect();
    let text = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &noise);
    let json = format!("\"{text}\"");
    let frame = encode(Serialization::Json, Compression::Lz4, json.as_bytes()).unwrap();
    assert_eq!(block_size(&frame), json.len() as u32 | 0x8000_0000);
    assert_eq!(&frame[19..19 + json.len()], json.as_bytes());
    assert_eq!(
        decode(Serialization::Json, Compression::Lz4, &frame).unwrap(),
        json.as_bytes()
    );
}

fn sample_fields() -> Vec<(Vec<u8>, Vec<u8>)> {
    // A message as hopeit publishes it from a POST (streams.md §2.2, MONITOR).
    let payload = fixture_bytes(&fixtures()["encoded"]["json+base64|lz4"]);
    [
        ("id", b"order-1".to_vec()),
        ("type", b"shop.model.OrderPlaced".to_vec()),
        ("submit_ts", b"2026-12-01T19:01:44.971370+00:00".to_vec()),
        ("event_ts", b"2026-12-01T19:01:44.971240+00:00".to_vec()),
        ("track.operation_id", b"e9e0c6a7".to_vec()),
        ("track.request_id", b"af15aec1".to_vec()),
        (
            "track.request_ts",
            b"2026-12-01T19:01:44.969786+00:00".to_vec(),
        ),
        ("event.app", b"shop.1x0".to_vec()),
        (
            "auth_info",
            b"eyJhbGxvd2VkIjogdHJ1ZSwgImF1dGhfdHlwZSI6ICJVbnNlY3VyZWQifQ==".to_vec(),
        ),
        ("ser", b"json+base64".to_vec()),
        ("comp", b"lz4".to_vec()),
        ("payload", payload),
        ("queue", b"AUTO".to_vec()),
    ]
    .into_iter()
    .map(|(k, v)| (k.as_bytes().to_vec(), v))
    .collect()
}

#[test]
fn a_message_published_by_hopeit_reads_and_writes_back_the_same_fields() {
    let fields = sample_fields();
    let e = Envelope::from_fields(&fields).unwrap();
    assert_eq!(e.id, "order-1");
    assert_eq!(e.type_name, "shop.model.OrderPlaced");
    assert_eq!(e.track_id("event.app"), "shop.1x0");
    assert_eq!(
        e.track_id("track.session_id"),
        "",
        "a missing track header is empty"
    );
    assert_eq!(e.auth_info["auth_type"], "Unsecured");
    assert_eq!(
        (e.serialization, e.compression),
        (Serialization::JsonBase64, Compression::Lz4)
    );
    assert_eq!(
        e.payload_json(DEFAULT_MAX_DECODED_SIZE).unwrap(),
        fixtures()["payload"].as_str().unwrap().as_bytes()
    );
    let written: Vec<(Vec<u8>, Vec<u8>)> = e
        .to_fields()
        .into_iter()
        .map(|(k, v)| (k.into_owned().into_bytes(), v))
        .collect();
    assert_eq!(written, fields);
}

#[test]
fn a_new_message_has_every_field_in_hopeits_order() {
    let mut e = Envelope::new(
        "id-1",
        "shop.model.OrderPlaced",
        Serialization::JsonBase64,
        Compression::Lz4,
        b"{}",
    )
    .unwrap();
    e.track_ids
        .push(("track.operation_id".to_owned(), "op".to_owned()));
    e.track_ids
        .push(("event.app".to_owned(), "shop.1x0".to_owned()));
    let fields = e.to_fields();
    let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_ref()).collect();
    assert_eq!(
        names,
        [
            "id",
            "type",
            "submit_ts",
            "event_ts",
            "track.operation_id",
            "event.app",
            "auth_info",
            "ser",
            "comp",
            "payload",
            "queue"
        ]
    );
    assert_eq!(fields[6].1, b"e30=");
    assert_eq!(fields[10].1, AUTO_QUEUE.as_bytes());
    let submit_ts = std::str::from_utf8(&fields[2].1).unwrap();
    assert!(
        submit_ts.ends_with("+00:00") && submit_ts.starts_with("20"),
        "{submit_ts}"
    );
}

#[test]
fn a_missing_queue_is_auto_and_a_missing_required_field_is_named() {
    let without = |name: &str| -> Vec<(Vec<u8>, Vec<u8>)> {
        sample_fields()
            .into_iter()
            .filter(|(k, _)| k != name.as_bytes())
            .collect()
    };
    assert_eq!(
        Envelope::from_fields(&without("queue")).unwrap().queue,
        "AUTO"
    );
    for name in [
        "id",
        "type",
        "submit_ts",
        "event_ts",
        "auth_info",
        "ser",
        "comp",
        "payload",
    ] {
        match Envelope::from_fields(&without(name)) {
            Err(CodecError::MissingField(field)) => assert_eq!(field, name),
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn bad_field_values_are_errors() {
    let with = |name: &str, value: &[u8]| -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut fields = sample_fields();
        fields
            .iter_mut()
            .find(|(k, _)| k == name.as_bytes())
            .unwrap()
            .1 = value.to_vec();
        fields
    };
    let err = |fields: Vec<(Vec<u8>, Vec<u8>)>| Envelope::from_fields(&fields).unwrap_err();
    assert!(matches!(
        err(with("comp", b"lz5")),
        CodecError::UnknownCompression(_)
    ));
    assert!(matches!(
        err(with("ser", b"pickle")),
        CodecError::UnknownSerialization(_)
    ));
    assert!(matches!(err(with("type", b"\xff")), CodecError::NotUtf8(f) if f == "type"));
    assert!(matches!(
        err(with("auth_info", b"{}")),
        CodecError::Base64 {
            field: "auth_info",
            ..
        }
    ));
    assert!(matches!(
        err(with("auth_info", b"WzFd")),
        CodecError::Json {
            field: "auth_info",
            ..
        }
    ));
    // `pickle:*` reads as a message; only its payload is refused.
    let e = Envelope::from_fields(&with("ser", b"pickle:4")).unwrap();
    assert!(matches!(
        e.payload_json(DEFAULT_MAX_DECODED_SIZE),
        Err(CodecError::Pickle("pickle:4"))
    ));
}

#[test]
fn truncated_and_damaged_payloads_are_errors() {
    let f = fixtures();
    for ser in SERS {
        for comp in Compression::ALL
            .into_iter()
            .filter(|c| *c != Compression::None)
        {
            let bytes = fixture_bytes(&f["encoded"][format!("{ser}|{comp}")]);
            for len in [0, 1, 4, 7, bytes.len() / 2, bytes.len() - 1] {
                assert!(
                    decode(ser, comp, &bytes[..len]).is_err(),
                    "{ser} {comp} cut at {len}"
                );
            }
        }
    }
    // A frame of linked blocks cut after its first block, and missing its end mark.
    let big = fixture_bytes(&f["big_encoded"]["json|lz4"]);
    let first_block = u32::from_le_bytes(big[15..19].try_into().unwrap()) & 0x7fff_ffff;
    for cut in [&big[..19 + first_block as usize], &big[..big.len() - 4]] {
        assert!(decode(Serialization::Json, Compression::Lz4, cut).is_err());
    }
    let mut frame = fixture_bytes(&f["encoded"]["json|lz4"]);
    frame[0] = 0x05;
    assert!(matches!(
        decode(Serialization::Json, Compression::Lz4, &frame),
        Err(CodecError::Decompress { .. })
    ));
    for bad in [&b"eyJ!e30="[..], b"e30", b"e30=\n"] {
        let r = decode(Serialization::JsonBase64, Compression::None, bad);
        assert!(
            matches!(
                r,
                Err(CodecError::Base64 {
                    field: "payload",
                    ..
                })
            ),
            "{bad:?}: {r:?}"
        );
    }
    assert!(matches!(
        decode(Serialization::Json, Compression::None, b"{\"a\":"),
        Err(CodecError::Json { .. })
    ));
    assert!(matches!(
        decode(Serialization::Json, Compression::None, b"\xff"),
        Err(CodecError::Json { .. })
    ));
}

#[test]
fn a_zlib_bomb_stops_at_the_limit() {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1024 * 1024];
    for _ in 0..17 {
        e.write_all(&zeros).unwrap();
    }
    let bomb = e.finish().unwrap();
    assert!(bomb.len() < 64 * 1024, "{}", bomb.len());
    assert!(matches!(
        decode(Serialization::Json, Compression::Zip, &bomb),
        Err(CodecError::TooLarge {
            limit: DEFAULT_MAX_DECODED_SIZE
        })
    ));
}

#[test]
fn every_compression_honours_a_smaller_limit() {
    let json = big_payload().into_bytes();
    for ser in SERS {
        for comp in Compression::ALL {
            let encoded = encode(ser, comp, &json).unwrap();
            // The limit applies to every step: for `json+base64`, the base64 text is the largest.
            let exact = match ser {
                Serialization::JsonBase64 => STANDARD.encode(&json).len(),
                _ => json.len(),
            };
            assert!(
                decode_with_limit(ser, comp, &encoded, exact).is_ok(),
                "{ser} {comp} at its size"
            );
            let r = decode_with_limit(ser, comp, &encoded, exact - 1);
            assert!(
                matches!(r, Err(CodecError::TooLarge { .. })),
                "{ser} {comp}: {r:?}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        rng_seed: RngSeed::Fixed(0x5713_ea35),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        for ser in SERS {
            for comp in Compression::ALL {
                let _ = decode_with_limit(ser, comp, &bytes, 1 << 20);
            }
        }
    }

    #[test]
    fn damaged_python_payloads_never_panic(index in any::<prop::sample::Index>(), flip in 1..=255u8) {
        let f = fixtures();
        for ser in SERS {
            for comp in Compression::ALL {
                let mut bytes = fixture_bytes(&f["encoded"][format!("{ser}|{comp}")]);
                let i = index.index(bytes.len());
                bytes[i] ^= flip;
                let _ = decode_with_limit(ser, comp, &bytes, 1 << 20);
            }
        }
    }
}
