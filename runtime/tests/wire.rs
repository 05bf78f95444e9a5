//! What a connection sends and how it reads answers: requests exactly as hopeit's apps-client
//! sends them, responses as it decodes them, and each auth strategy.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use appwire::auth::AuthError;
use appwire::signing::{Verifier, VerifyError};
use appwire::{Body, CallContext, Connection, Error, Request, Target};
use appwire_manifest::{AuthStrategy, HmacSettings, SecretString};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::{CALLER, Reply, always, connect, scripted, settings};
use http::HeaderValue;
use serde::{Deserialize, Serialize};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Something {
    id: String,
    qty: u32,
}

fn is_uuid_v4(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.iter().map(|g| g.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && s.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
        && groups[2].starts_with('4')
}

#[tokio::test]
async fn a_get_is_sent_as_hopeit_sends_it() {
    let host = always(Reply::ok()).await;
    let conn = connect(settings(&[&host]));
    let context = CallContext::new()
        .with_event_name("count_and_save")
        .with_track_id("track.session_id", "session-1")
        .with_track_id("track.operation_id", "op-1");
    conn.send(
        Request::get("list_somethings")
            .query("item_id", "a+b&c")
            .query("qty", 3)
            .query("ratio", 0.5)
            .query_list("tag", ["x", "y"])
            // hopeit ignores the payload of a GET.
            .body(Body::json(&[1, 2]).expect("json"))
            .context(context),
    )
    .await
    .expect("ok");

    let r = host.last();
    assert_eq!(r.method, "GET");
    assert_eq!(r.path, "/api/simple-example/0x30/list-somethings");
    assert_eq!(
        r.query.as_deref(),
        Some("item_id=a%2Bb%26c&qty=3&ratio=0.5&tag=x&tag=y")
    );
    assert!(r.body.is_empty());
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("x-track-client-app-key"), Some(CALLER));
    assert_eq!(
        r.header("x-track-client-event-name"),
        Some("count_and_save")
    );
    assert_eq!(r.header("x-track-session-id"), Some("session-1"));
    assert_eq!(r.header("x-track-operation-id"), Some("op-1"));
    assert!(
        r.header("x-track-request-id").is_some_and(is_uuid_v4),
        "{r:?}"
    );
    let ts = r.header("x-track-request-ts").expect("request ts");
    assert!(ts.ends_with("+00:00") && ts.contains('T'), "{ts}");
    assert_eq!(r.header("authorization"), None);
}

#[tokio::test]
async fn post_bodies_are_encoded_as_hopeit_encodes_payloads() {
    let host = always(Reply::ok()).await;
    let conn = connect(settings(&[&host]));
    let thing = Something {
        id: "a".into(),
        qty: 2,
    };
    let cases = [
        (
            Request::post("save_something").body(Body::json(&thing).expect("json")),
            r#"{"id":"a","qty":2}"#,
        ),
        (
            Request::post("save_something").body(Body::json(&[&thing]).expect("json")),
            r#"[{"id":"a","qty":2}]"#,
        ),
        (
            Request::post("save_something").body(Body::value("text").expect("json")),
            r#"{"value":"text"}"#,
        ),
        (
            Request::post("save_something").body(Body::value(&42).expect("json")),
            r#"{"value":42}"#,
        ),
        (
            Request::post("save_something").body(Body::value(&2.5).expect("json")),
            r#"{"value":2.5}"#,
        ),
        (
            Request::post("save_something").body(Body::value(&false).expect("json")),
            r#"{"value":false}"#,
        ),
        (Request::post("save_something").body(Body::null()), "null"),
        (Request::post("save_something"), "null"),
    ];
    for (request, expected) in cases {
        conn.send(request.query("id", "7")).await.expect("ok");
        let r = host.last();
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/api/simple-example/0x30/save-something");
        assert_eq!(r.query.as_deref(), Some("id=7"));
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(std::str::from_utf8(&r.body).expect("utf-8"), expected);
    }
}

#[tokio::test]
async fn routes_overrides_plugins_and_trailing_slashes() {
    let host = always(Reply::ok()).await;
    let mut s = settings(&[&host]);
    s.connection_str = format!("{}/", host.url);
    s.routes_override
        .insert("query_something".into(), "custom/route_B".into());
    let conn = Connection::builder(
        "auth_conn",
        Target::new("simple-example", "0.30").with_plugin("basic-auth", "0.30"),
        s,
        CALLER,
    )
    .build()
    .expect("connection");
    conn.send(Request::get("login")).await.expect("ok");
    assert_eq!(
        host.last().path,
        "/api/simple-example/0x30/basic-auth/0x30/login"
    );
    conn.send(Request::get("query_something"))
        .await
        .expect("ok");
    assert_eq!(host.last().path, "/api/custom/route--b");
    conn.send(Request::get("collector.query_concurrently"))
        .await
        .expect("ok");
    assert_eq!(
        host.last().path,
        "/api/simple-example/0x30/basic-auth/0x30/collector/query-concurrently"
    );
}

#[tokio::test]
async fn track_ids_are_the_same_on_every_attempt_of_a_call() {
    let (a, b) = (always(Reply::status(500)).await, always(Reply::ok()).await);
    let conn = connect(settings(&[&a, &b]));
    conn.send(Request::get("e")).await.expect("retried");
    let (first, second) = (a.last(), b.last());
    let id = first.header("x-track-request-id").expect("generated");
    assert_eq!(second.header("x-track-request-id"), Some(id));
    assert_eq!(
        second.header("x-track-request-ts"),
        first.header("x-track-request-ts")
    );

    // A request id from the context is kept, and a new call gets a new generated one.
    let context = CallContext::new().with_track_id("track.request_id", "given-id");
    conn.send(Request::get("e").context(context))
        .await
        .expect("ok");
    assert_eq!(b.last().header("x-track-request-id"), Some("given-id"));
    conn.send(Request::get("e")).await.expect("ok");
    let next = b.last();
    let fresh = next.header("x-track-request-id").expect("generated");
    assert!(fresh != id && is_uuid_v4(fresh), "{fresh}");
}

#[tokio::test]
async fn extra_headers_are_sent_and_replace_computed_ones() {
    let host = always(Reply::ok()).await;
    let conn = connect(settings(&[&host]));
    conn.send(
        Request::get("e")
            .header(
                http::HeaderName::from_static("x-custom"),
                HeaderValue::from_static("1"),
            )
            .header(
                http::HeaderName::from_static("x-track-client-event-name"),
                HeaderValue::from_static("override"),
            ),
    )
    .await
    .expect("ok");
    let r = host.last();
    assert_eq!(r.header("x-custom"), Some("1"));
    assert_eq!(r.header("x-track-client-event-name"), Some("override"));
}

#[tokio::test]
async fn responses_decode_as_hopeit_decodes_them() {
    #[derive(Debug, PartialEq, Deserialize)]
    struct NotFound {
        missing: String,
    }
    let host = scripted(|_, r| match r.path.rsplit('/').next().unwrap_or("") {
        "object" => Reply::json(r#"{"id": "a", "qty": 1}"#),
        "list" => Reply::json(r#"[{"id": "a", "qty": 1}, {"id": "b", "qty": 2}]"#),
        "count" => Reply::json(r#"{"ev.count": 3}"#),
        "text" => Reply::status(200)
            .content_type("text/plain; charset=utf-8")
            .body("plain words"),
        "lookup" => Reply::status(404)
            .content_type("application/json")
            .body(r#"{"missing": "x"}"#),
        _ => Reply::status(418),
    })
    .await;
    let conn = connect(settings(&[&host]));

    let object = conn.send(Request::get("object")).await.expect("ok");
    assert_eq!(
        object.into_json::<Something>().expect("object").value,
        Something {
            id: "a".into(),
            qty: 1
        }
    );
    let list: Vec<Something> = conn
        .send(Request::get("list"))
        .await
        .expect("ok")
        .json()
        .expect("list");
    assert_eq!(list.len(), 2);
    let count = conn.send(Request::get("ev.count")).await.expect("ok");
    assert_eq!(host.last().path, "/api/simple-example/0x30/ev/count");
    assert_eq!(count.value::<u32>("ev.count").expect("value"), 3);
    assert_eq!(*count.into_value::<u64>("ev.count").expect("value"), 3);
    let text: String = conn
        .send(Request::get("text"))
        .await
        .expect("ok")
        .value("text")
        .expect("text");
    assert_eq!(text, "plain words");

    let lookup = conn
        .send(Request::get("lookup").declare(404))
        .await
        .expect("declared");
    assert_eq!(lookup.status.as_u16(), 404);
    assert_eq!(lookup.json_for::<Something>(200).expect("not 200"), None);
    assert_eq!(
        lookup.json_for::<NotFound>(404).expect("decoded"),
        Some(NotFound {
            missing: "x".into()
        })
    );
    // Undeclared, the same answer is an error carrying the body.
    match conn.send(Request::get("lookup")).await {
        Err(Error::Status(r)) => {
            assert_eq!(r.status.as_u16(), 404);
            assert_eq!(r.text(), r#"{"missing": "x"}"#);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn hopeit_error_bodies_and_unauthorized() {
    let tb = r#"{"msg": "Something went wrong", "tb": ["Traceback", "ValueError"]}"#;
    let host = scripted(move |_, r| match r.path.rsplit('/').next().unwrap_or("") {
        "fails" => Reply::status(500).content_type("text/plain").body(tb),
        "bad" => Reply::status(400)
            .content_type("text/plain")
            .body(r#"{"msg": "bad input", "tb": []}"#),
        _ => Reply::status(401)
            .content_type("text/plain")
            .body(r#"{"msg": "Unauthorized", "tb": []}"#),
    })
    .await;
    let mut s = settings(&[&host]);
    s.retries = 0;
    let conn = connect(s);

    let err = conn.send(Request::get("fails")).await.expect_err("500");
    let response = err.response().expect("a response");
    let info = response.info.as_ref().expect("ErrorInfo");
    assert_eq!(info.msg, "Something went wrong");
    assert_eq!(info.tb, ["Traceback", "ValueError"]);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    assert!(err.is_retryable());

    let err = conn.send(Request::get("bad")).await.expect_err("400");
    assert!(
        matches!(&err, Error::Status(r) if r.info.as_ref().map(|i| i.msg.as_str()) == Some("bad input"))
    );
    assert!(err.to_string().contains("bad input"), "{err}");

    let err = conn.send(Request::get("secret")).await.expect_err("401");
    match &err {
        Error::Unauthorized(r) => assert_eq!(r.status.as_u16(), 401),
        other => panic!("{other:?}"),
    }
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn garbage_and_wrong_content_types_fail_decoding_with_the_body_kept() {
    let host = scripted(|_, r| match r.path.rsplit('/').next().unwrap_or("") {
        "garbage" => Reply::json("{\"id\": tru"),
        _ => Reply::status(200)
            .content_type("text/html")
            .body("<html>proxy error</html>"),
    })
    .await;
    let conn = connect(settings(&[&host]));
    let garbage = conn.send(Request::get("garbage")).await.expect("a 200");
    match garbage.json::<Something>() {
        Err(Error::Decode { body, status, .. }) => {
            assert_eq!(status.as_u16(), 200);
            assert_eq!(body, "{\"id\": tru");
        }
        other => panic!("{other:?}"),
    }
    let html = conn.send(Request::get("html")).await.expect("a 200");
    match html.json::<Something>() {
        Err(Error::ContentType {
            content_type, body, ..
        }) => {
            assert_eq!(content_type, "text/html");
            assert_eq!(body, "<html>proxy error</html>");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(host.hits(), 2);
}

const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys");
const TEST_APP: &str = "test_caller.1x0";

/// The RSA public key inside a `BEGIN PUBLIC KEY` (SubjectPublicKeyInfo) PEM, as PKCS#1 DER.
fn rsa_public_key(pem: &str) -> Vec<u8> {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let spki = STANDARD.decode(b64).expect("base64");
    // SEQUENCE { SEQUENCE { rsaEncryption, NULL }, BIT STRING { 0 unused bits, RSAPublicKey } }
    let mut i = 0;
    let read_header = |der: &[u8], i: &mut usize| -> (u8, usize) {
        let tag = der[*i];
        let mut len = usize::from(der[*i + 1]);
        *i += 2;
        if len & 0x80 != 0 {
            let n = len & 0x7f;
            len = der[*i..*i + n]
                .iter()
                .fold(0, |acc, b| acc << 8 | usize::from(*b));
            *i += n;
        }
        (tag, len)
    };
    assert_eq!(read_header(&spki, &mut i).0, 0x30);
    let (tag, len) = read_header(&spki, &mut i);
    assert_eq!(tag, 0x30);
    i += len;
    let (tag, len) = read_header(&spki, &mut i);
    assert_eq!(tag, 0x03);
    assert_eq!(spki[i], 0);
    spki[i + 1..i + len].to_vec()
}

#[tokio::test]
async fn client_app_public_key_sends_an_rs256_jwt_that_verifies() {
    let host = always(Reply::ok()).await;
    let mut s = settings(&[&host]);
    s.auth_strategy = AuthStrategy::ClientAppPublicKey;
    s.appwire.secrets_location = KEYS.into();
    let conn = Connection::builder("target", common::target(), s, TEST_APP)
        .auth_passphrase(SecretString::new("appwire-test-passphrase"))
        .build()
        .expect("connection");
    let before = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    conn.send(Request::get("e")).await.expect("ok");
    conn.send(Request::get("e")).await.expect("ok");

    let requests = host.requests();
    let auth = requests[0].header("authorization").expect("authorization");
    assert_eq!(
        requests[1].header("authorization"),
        Some(auth),
        "the token is reused"
    );
    let token = auth.strip_prefix("Bearer ").expect("a bearer token");
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);

    let public = std::fs::read_to_string(format!("{KEYS}/public/{TEST_APP}_pub.pem")).expect("key");
    let key = ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        rsa_public_key(&public),
    );
    let signature = URL_SAFE_NO_PAD.decode(parts[2]).expect("base64url");
    key.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
        .expect("an RS256 signature of the caller's key");

    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).expect("base64url"))
            .expect("json");
    assert_eq!(header, serde_json::json!({"alg": "RS256", "typ": "JWT"}));
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("base64url"))
            .expect("json");
    let iat = claims["iat"].as_u64().expect("iat");
    assert!(iat >= before && iat <= before + 5, "{claims}");
    assert_eq!(claims["exp"].as_u64(), Some(iat + 60));
    assert_eq!(claims["app"], TEST_APP);
    assert_eq!(claims.as_object().map(|o| o.len()), Some(3));

    // The signature covers the claims: the same signature over other claims does not verify.
    let signature = URL_SAFE_NO_PAD.decode(parts[2]).expect("base64url");
    let other_claims = URL_SAFE_NO_PAD
        .encode(serde_json::json!({"iat": iat, "exp": iat + 3600, "app": TEST_APP}).to_string());
    let forged = format!("{}.{other_claims}", parts[0]);
    assert!(key.verify(forged.as_bytes(), &signature).is_err());
}

#[tokio::test]
async fn forward_context_sends_the_incoming_authorization_or_refuses_to_call() {
    let host = always(Reply::ok()).await;
    let mut s = settings(&[&host]);
    s.auth_strategy = AuthStrategy::ForwardContext;
    let conn = connect(s);
    let context = CallContext::new().with_authorization("Basic dXNlcjpwYXNz");
    conn.send(Request::get("login").context(context))
        .await
        .expect("ok");
    assert_eq!(
        host.last().header("authorization"),
        Some("Basic dXNlcjpwYXNz")
    );

    let err = conn
        .send(Request::get("login"))
        .await
        .expect_err("nothing to forward");
    assert!(
        matches!(err, Error::Auth(AuthError::NothingToForward)),
        "{err:?}"
    );
    assert_eq!(host.hits(), 1);
}

#[tokio::test]
async fn a_static_bearer_token_wins_over_the_strategy_and_stays_out_of_debug() {
    let host = always(Reply::ok()).await;
    let mut s = settings(&[&host]);
    s.auth_strategy = AuthStrategy::ClientAppPublicKey;
    s.appwire.bearer_token = Some(SecretString::new("static-token-value"));
    let conn = connect(s);
    conn.send(Request::get("e")).await.expect("ok");
    assert_eq!(
        host.last().header("authorization"),
        Some("Bearer static-token-value")
    );
    assert!(!format!("{conn:?}").contains("static-token-value"));
}

#[tokio::test]
async fn every_attempt_is_signed_afresh_and_passes_the_verifier() {
    let (a, b) = (always(Reply::status(503)).await, always(Reply::ok()).await);
    let mut s = settings(&[&a, &b]);
    s.appwire.hmac = Some(HmacSettings {
        service_id: "caller-svc".into(),
        secret: SecretString::new("hmac-test-secret"),
    });
    let conn = connect(s);
    conn.send(
        Request::post("save_something").query("id", "a b").body(
            Body::json(&Something {
                id: "a".into(),
                qty: 1,
            })
            .expect("json"),
        ),
    )
    .await
    .expect("retried on b");

    let verifier = Verifier::new(Duration::from_secs(60)).with_key(
        "caller-svc",
        appwire::signing::Secret::new("hmac-test-secret").expect("secret"),
    );
    let (first, second) = (a.last(), b.last());
    assert_ne!(
        first.header("x-appwire-nonce"),
        second.header("x-appwire-nonce")
    );
    for captured in [&first, &second] {
        assert_eq!(verifier.verify_http(&captured.to_http()), Ok("caller-svc"));
    }
    // A replay of an accepted attempt is refused as a replay.
    assert_eq!(
        verifier.verify_http(&second.to_http()),
        Err(VerifyError::Replayed)
    );
    // A changed body is refused for its signature, by a verifier that has not seen the nonce.
    let fresh = Verifier::new(Duration::from_secs(60)).with_key(
        "caller-svc",
        appwire::signing::Secret::new("hmac-test-secret").expect("secret"),
    );
    let mut tampered = first.to_http();
    *tampered.body_mut() = bytes::Bytes::from_static(b"{}");
    assert_eq!(fresh.verify_http(&tampered), Err(VerifyError::BadSignature));
    assert_eq!(fresh.verify_http(&first.to_http()), Ok("caller-svc"));
}
