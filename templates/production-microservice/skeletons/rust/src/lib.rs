//! The HTTP service: `GET /healthz` and `GET /hello`, answered in JSON by a small HTTP/1.1 server
//! written on the standard library, so the service builds without downloading a crate.

use std::fmt::Write as _;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

/// Requests larger than this are refused; the service takes no request bodies.
const MAX_HEADER_BYTES: u64 = 16 * 1024;
const MAX_BODY_BYTES: u64 = 64 * 1024;

/// What the service answers: a status code and a JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: String,
}

/// The answer to a request for `target` (`/hello?name=Ada`) with `method`.
#[must_use]
pub fn route(method: &str, target: &str) -> Response {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    match (method, path) {
        ("GET" | "HEAD", "/healthz") => json(200, &[("status", "ok")]),
        ("GET" | "HEAD", "/hello") => {
            let name = query_param(query, "name")
                .filter(|name| !name.is_empty())
                .unwrap_or_else(|| String::from("world"));
            json(200, &[("message", &format!("Hello, {name}"))])
        }
        (_, "/healthz" | "/hello") => json(405, &[("error", "this service answers GET only")]),
        _ => json(404, &[("error", &format!("no route {path}"))]),
    }
}

/// Serves connections on `listener` until the process ends, each on its own thread.
pub fn serve(listener: &TcpListener) {
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                thread::spawn(move || {
                    if let Err(error) = handle(&stream) {
                        eprintln!("connection failed: {error}");
                    }
                });
            }
            Err(error) => eprintln!("accept failed: {error}"),
        }
    }
}

/// Reads one request, answers it and closes the connection.
fn handle(stream: &TcpStream) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?).take(MAX_HEADER_BYTES);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut body_length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                body_length = value.trim().parse().unwrap_or(u64::MAX);
            }
        }
    }
    let mut parts = request_line.split_whitespace();
    let response = match (parts.next(), parts.next(), parts.next()) {
        _ if body_length > MAX_BODY_BYTES => json(413, &[("error", "request body too large")]),
        (Some(method), Some(target), Some(version)) if version.starts_with("HTTP/1.") => {
            // Read the body before answering: closing with unread data would reset the connection.
            let mut reader = reader.into_inner();
            io::copy(&mut (&mut reader).take(body_length), &mut io::sink())?;
            route(method, target)
        }
        _ => json(400, &[("error", "malformed request")]),
    };
    let head_only = request_line.starts_with("HEAD ");
    write_response(&mut &*stream, &response, head_only)
}

fn write_response(out: &mut impl Write, response: &Response, head_only: bool) -> io::Result<()> {
    let reason = match response.status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Content Too Large",
        _ => "",
    };
    let allow = if response.status == 405 {
        "allow: GET, HEAD\r\n"
    } else {
        ""
    };
    let head = format!(
        "HTTP/1.1 {} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{allow}connection: close\r\n\r\n",
        response.status,
        response.body.len(),
    );
    out.write_all(head.as_bytes())?;
    if !head_only {
        out.write_all(response.body.as_bytes())?;
    }
    out.flush()
}

/// A JSON object of string members.
fn json(status: u16, members: &[(&str, &str)]) -> Response {
    let members: Vec<String> = members
        .iter()
        .map(|(name, value)| format!("{}:{}", quote(name), quote(value)))
        .collect();
    Response {
        status,
        body: format!("{{{}}}", members.join(",")),
    }
}

/// `text` as a JSON string.
fn quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                write!(quoted, "\\u{:04x}", u32::from(c)).expect("a String takes any text");
            }
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// The decoded value of `key` in a query string (`name=Ada%20Lovelace&x=1`).
fn query_param(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(name) == key).then(|| percent_decode(value))
    })
}

/// Decodes `%XX` escapes and `+` (a space in a query string).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => decoded.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match (hex_digit(bytes[i + 1]), hex_digit(bytes[i + 2])) {
                    (Some(high), Some(low)) => {
                        decoded.push(high * 16 + low);
                        i += 2;
                    }
                    _ => decoded.push(b'%'),
                }
            }
            byte => decoded.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

fn hex_digit(byte: u8) -> Option<u8> {
    char::from(byte)
        .to_digit(16)
        .and_then(|digit| u8::try_from(digit).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let cases = [
            ("GET", "/healthz", 200, "{\"status\":\"ok\"}"),
            (
                "GET",
                "/hello?name=Ada",
                200,
                "{\"message\":\"Hello, Ada\"}",
            ),
            (
                "GET",
                "/hello?x=1&name=Ada+Lovelace",
                200,
                "{\"message\":\"Hello, Ada Lovelace\"}",
            ),
            (
                "GET",
                "/hello?name=%22quoted%22",
                200,
                "{\"message\":\"Hello, \\\"quoted\\\"\"}",
            ),
            ("GET", "/hello", 200, "{\"message\":\"Hello, world\"}"),
            ("GET", "/hello?name=", 200, "{\"message\":\"Hello, world\"}"),
            (
                "POST",
                "/healthz",
                405,
                "{\"error\":\"this service answers GET only\"}",
            ),
            ("GET", "/nope", 404, "{\"error\":\"no route /nope\"}"),
        ];
        for (method, target, status, body) in cases {
            let response = route(method, target);
            assert_eq!(
                response,
                Response {
                    status,
                    body: body.to_string()
                },
                "{method} {target}"
            );
        }
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b+c"), "a b c");
        assert_eq!(percent_decode("%e2%9c%93"), "\u{2713}");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(quote("a\nb"), "\"a\\u000ab\"");
    }
}
