//! Starts the service on a free port and calls it over TCP, as a client would.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;

fn start() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().expect("the bound address").port();
    thread::spawn(move || service::serve(&listener));
    port
}

/// Sends `request` and returns the status code, the headers and the body of the answer.
fn call(port: u16, request: &str) -> (u16, String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("a connection");
    stream
        .write_all(request.as_bytes())
        .expect("the request sent");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("the response read");
    let (head, body) = response
        .split_once("\r\n\r\n")
        .expect("a blank line after the headers");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("a status code");
    (status, head.to_lowercase(), body.to_string())
}

fn get(port: u16, target: &str) -> (u16, String) {
    let (status, head, body) = call(
        port,
        &format!("GET {target} HTTP/1.1\r\nHost: localhost\r\n\r\n"),
    );
    assert!(head.contains("content-type: application/json"), "{head}");
    (status, body)
}

#[test]
fn healthz_answers_ok() {
    let port = start();
    assert_eq!(
        get(port, "/healthz"),
        (200, String::from("{\"status\":\"ok\"}"))
    );
}

#[test]
fn hello_greets_by_name() {
    let port = start();
    assert_eq!(
        get(port, "/hello?name=Ada%20Lovelace"),
        (200, String::from("{\"message\":\"Hello, Ada Lovelace\"}"))
    );
    assert_eq!(
        get(port, "/hello"),
        (200, String::from("{\"message\":\"Hello, world\"}"))
    );
}

#[test]
fn unknown_paths_and_other_methods_are_refused() {
    let port = start();
    assert_eq!(get(port, "/nope").0, 404);
    let (status, head, _) = call(
        port,
        "POST /healthz HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello",
    );
    assert_eq!(status, 405);
    assert!(head.contains("allow: get, head"), "{head}");
    assert_eq!(call(port, "nonsense\r\n\r\n").0, 400);
}
