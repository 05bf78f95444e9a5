//! The runtime's own API, without generated methods, against a real hopeit.engine server:
//! a declared error status decodes hopeit's error body.

mod common;

use appwire::{ErrorInfo, Request};

#[tokio::test]
async fn a_declared_500_decodes_hopeits_error_body_labelled_text_plain() {
    let Some(fleet) = common::fleet(1).await else {
        return;
    };
    let target = common::target(&fleet);
    let connection = target.connection();

    // `explode` raises: hopeit answers 500 with `{"msg": .., "tb": [..]}` as text/plain.
    let request = Request::get("explode")
        .declare(500)
        .context(common::context("browse"));
    let raw = connection.send(request).await.expect("a declared status");
    assert_eq!(raw.status, 500);
    assert_eq!(raw.headers["content-type"], "text/plain; charset=utf-8");
    let info = raw.json::<ErrorInfo>().expect("hopeit's error body");
    assert_eq!(info.msg, "the catalog exploded");
    assert_eq!(info.tb, ["RuntimeError: the catalog exploded\n"]);
    assert_eq!(raw.json_for::<ErrorInfo>(500).expect("decoded"), Some(info));

    // Declared, so an answer: sent once, and no failure for the breaker.
    assert_eq!(common::host(connection, 0).failures, 0);
}
