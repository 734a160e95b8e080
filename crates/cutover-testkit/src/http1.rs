//! Plain HTTP/1.1 over a TCP socket, as browsers (grpc-web) and metrics
//! scrapers speak it: no HTTP/2, no tonic.

use std::{
    io::{Read, Write},
    net::TcpStream,
    time::{Duration, Instant},
};

/// Sends `head` (with `Host` and `Connection: close` added) and `body`
/// over plain HTTP/1.1; returns the raw response.
pub fn http1(addr: &str, head: &str, body: &[u8]) -> String {
    let mut stream = open_http1(addr, head, body);
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read");
    String::from_utf8_lossy(&response).into_owned()
}

/// Sends `head` (with `Host` and `Connection: close` added) and `body`;
/// returns the connection, for reading a response as it streams.
pub fn open_http1(addr: &str, head: &str, body: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "{head}\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("write head");
    stream.write_all(body).expect("write body");
    stream
}

/// A gRPC message in grpc-web framing, and the head of its POST to `path`.
pub fn grpc_web_request(path: &str, message: &[u8]) -> (String, Vec<u8>) {
    let mut body = vec![0u8];
    body.extend_from_slice(&u32::try_from(message.len()).expect("small").to_be_bytes());
    body.extend_from_slice(message);
    let head = format!(
        "POST {path} HTTP/1.1\r\nContent-Type: application/grpc-web+proto\r\nX-Grpc-Web: 1\r\nContent-Length: {}",
        body.len()
    );
    (head, body)
}

/// A unary call in grpc-web framing over plain HTTP/1.1, as a browser
/// sends it; returns the raw response.
pub fn grpc_web_call(addr: &str, path: &str, message: &[u8]) -> String {
    let (head, body) = grpc_web_request(path, message);
    http1(addr, &head, &body)
}

/// Reads from `stream` into `received` until it contains `needle`; fails
/// after `within`.
pub fn read_until_contains(
    stream: &mut TcpStream,
    received: &mut Vec<u8>,
    needle: &str,
    within: Duration,
) {
    let deadline = Instant::now() + within;
    let mut chunk = [0u8; 4096];
    while !String::from_utf8_lossy(received).contains(needle) {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "{needle:?} not received within {within:?}: {}",
            String::from_utf8_lossy(received)
        );
        stream.set_read_timeout(Some(left)).expect("timeout");
        match stream.read(&mut chunk) {
            Ok(0) => panic!(
                "the stream ended before {needle:?}: {}",
                String::from_utf8_lossy(received)
            ),
            Ok(n) => received.extend_from_slice(&chunk[..n]),
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(err) if err.kind() == std::io::ErrorKind::TimedOut => {}
            Err(err) => panic!("read: {err}"),
        }
    }
}

/// The value of the unlabelled sample `series` on a Prometheus text page
/// (the HTTP response `page`, headers included).
pub fn metric_value(page: &str, series: &str) -> f64 {
    page.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no sample {series} in:\n{page}"))
}
