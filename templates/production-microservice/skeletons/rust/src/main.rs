use std::env;
use std::net::TcpListener;
use std::process::ExitCode;

fn main() -> ExitCode {
    let port = match env::var("PORT") {
        Err(_) => 8080,
        Ok(text) => {
            let Ok(port) = text.parse::<u16>() else {
                eprintln!("PORT must be a port number, got {text:?}");
                return ExitCode::FAILURE;
            };
            port
        }
    };
    let listener = match TcpListener::bind(("0.0.0.0", port)) {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen on port {port}: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("listening on port {port}");
    service::serve(&listener);
    ExitCode::SUCCESS
}
