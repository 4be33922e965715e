//! The native AWS Lambda authorizer (see issue: Lambda). A skeleton until it lands.

fn main() {
    eprintln!("edge-authz-lambda: not built yet");
    std::process::exit(1);
}
