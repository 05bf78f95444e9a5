//! The Redis servers of `appwire_test_support::redis`: they start, answer, keep an append-only
//! file across a crash, stop, and form a cluster. They fail when Redis is missing, unless
//! `APPWIRE_SKIP_REDIS=1`.

use std::net::{Ipv4Addr, TcpStream};

use appwire_test_support::redis::{RedisCluster, RedisOptions, RedisServer, Resp, skip_redis};

fn ok() -> Resp {
    Resp::Simple("OK".to_owned())
}

fn bulk(value: &str) -> Resp {
    Resp::Bulk(Some(value.as_bytes().to_vec()))
}

#[test]
fn a_server_answers_ping_and_stops() {
    if skip_redis() {
        return;
    }
    let mut server = RedisServer::start().expect("start redis-server");
    assert_eq!(server.url(), format!("redis://127.0.0.1:{}", server.port()));
    assert_eq!(
        server.command(&["PING"]).expect("PING"),
        Resp::Simple("PONG".to_owned())
    );
    assert!(server.pid().is_some());
    server.stop().expect("stop");
    assert!(!server.is_running());
    assert!(TcpStream::connect((Ipv4Addr::LOCALHOST, server.port())).is_err());
}

#[test]
fn an_append_only_file_survives_a_crash_and_a_restart() {
    if skip_redis() {
        return;
    }
    let mut server = RedisServer::start_with(RedisOptions {
        aof: true,
        ..RedisOptions::default()
    })
    .expect("start redis-server");
    let port = server.port();
    let first_pid = server.pid();
    assert_eq!(
        server.command(&["SET", "greeting", "hello"]).expect("SET"),
        ok()
    );

    server.kill().expect("kill");
    assert!(!server.is_running());
    server.restart().expect("restart");
    assert_eq!(server.port(), port);
    assert_ne!(server.pid(), first_pid);
    assert_eq!(
        server.command(&["GET", "greeting"]).expect("GET"),
        bulk("hello")
    );

    // A clean stop keeps it too.
    server.restart().expect("restart");
    assert_eq!(
        server.command(&["GET", "greeting"]).expect("GET"),
        bulk("hello")
    );
}

#[test]
fn without_an_append_only_file_a_restart_starts_empty() {
    if skip_redis() {
        return;
    }
    let mut server = RedisServer::start().expect("start redis-server");
    assert_eq!(
        server.command(&["SET", "greeting", "hello"]).expect("SET"),
        ok()
    );
    server.restart().expect("restart");
    assert_eq!(
        server.command(&["GET", "greeting"]).expect("GET"),
        Resp::Bulk(None)
    );
}

#[test]
fn stream_entries_are_read_back_in_order() {
    if skip_redis() {
        return;
    }
    let server = RedisServer::start().expect("start redis-server");
    let mut connection = server.connect().expect("connect");
    for n in ["1", "2"] {
        let id = connection
            .command(&["XADD", "orders", "*", "n", n, "payload", "{\"qty\":1}"])
            .expect("XADD");
        assert!(id.text().is_some(), "{id:?}");
    }
    let reply = connection
        .command(&["XRANGE", "orders", "-", "+"])
        .expect("XRANGE");
    let entries = reply.entries().expect("entries");
    let ns: Vec<_> = entries.iter().map(|e| e.text("n")).collect();
    assert_eq!(ns, [Some("1".to_owned()), Some("2".to_owned())]);
    assert_eq!(entries[0].field("payload"), Some(&b"{\"qty\":1}"[..]));
    assert!(matches!(
        connection.command(&["NO-SUCH-COMMAND"]).expect("reply"),
        Resp::Error(_)
    ));
}

#[test]
fn dropping_a_server_stops_it() {
    if skip_redis() {
        return;
    }
    let server = RedisServer::start().expect("start redis-server");
    let port = server.port();
    drop(server);
    assert!(TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err());
}

#[test]
fn three_masters_form_a_cluster() {
    if skip_redis() {
        return;
    }
    let cluster = RedisCluster::start(3).expect("start a cluster");
    assert_eq!(cluster.urls().len(), 3);
    for node in cluster.nodes() {
        let info = node.command(&["CLUSTER", "INFO"]).expect("CLUSTER INFO");
        let info = info.text().expect("text");
        assert!(info.contains("cluster_state:ok"), "{info}");
        assert!(info.contains("cluster_known_nodes:3"), "{info}");
    }
    let ports: Vec<u16> = cluster.nodes().iter().map(RedisServer::port).collect();
    drop(cluster);
    for port in ports {
        assert!(TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err());
    }
}
