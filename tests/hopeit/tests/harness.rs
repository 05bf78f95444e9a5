//! The servers the other tests run: stopped with their fleet, and a failed start explained.

mod common;

use std::net::Ipv4Addr;
use std::time::Duration;

use appwire_hopeit_tests::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

#[tokio::test]
async fn dropping_a_fleet_stops_every_server() {
    let Some(fleet) = common::fleet(2).await else {
        return;
    };
    let ports: Vec<u16> = fleet.servers().iter().map(|s| s.port()).collect();
    for &port in &ports {
        assert!(
            TcpStream::connect((Ipv4Addr::LOCALHOST, port))
                .await
                .is_ok()
        );
    }
    drop(fleet);
    // Killed processes release their sockets as the kernel tears them down.
    let deadline = Instant::now() + Duration::from_secs(2);
    for port in ports {
        while TcpStream::connect((Ipv4Addr::LOCALHOST, port))
            .await
            .is_ok()
        {
            assert!(Instant::now() < deadline, "port {port} still listens");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test]
async fn a_server_that_cannot_start_says_why() {
    let Some(mut fleet) = common::fleet(1).await else {
        return;
    };
    let server = &mut fleet.servers_mut()[0];
    server.stop().await.expect("stop");
    // Another process takes the port while it is free, and answers 200 to anything.
    let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, server.port())).await;
    let impostor = tokio::spawn(answer_200(taken.expect("take the port")));

    let err = server.start().await.expect_err("the port is taken");
    impostor.abort();
    assert!(matches!(err, Error::Exited { .. }), "{err:?}");
    assert!(err.to_string().contains("Address already in use"), "{err}");
}

async fn answer_200(listener: TcpListener) {
    while let Ok((mut stream, _)) = listener.accept().await {
        let mut request = [0; 1024];
        let _ = stream.read(&mut request).await;
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}")
            .await;
    }
}
