//! The README's examples are run, so they cannot rot: every ```json config block must be a
//! valid configuration and every ```json policy block a valid policy.

use edge_authz::{Config, PolicyDocument};

fn blocks(kind: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let fence = format!("```json {kind}");
    let mut out = Vec::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        if line.trim() == fence {
            let body: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
            out.push(body.join("\n"));
        }
    }
    out
}

#[test]
fn readme_configurations_are_valid() {
    let configs = blocks("config");
    assert!(
        !configs.is_empty(),
        "the README lost its configuration example"
    );
    for config in configs {
        if let Err(e) = Config::from_json(&config) {
            panic!("README configuration is invalid:\n{e}\n{config}");
        }
    }
}

#[test]
fn readme_policies_are_valid() {
    let policies = blocks("policy");
    assert!(!policies.is_empty(), "the README lost its policy example");
    for policy in policies {
        if let Err(e) = PolicyDocument::parse(&policy) {
            panic!("README policy is invalid:\n{e}\n{policy}");
        }
    }
}

#[test]
fn demo_configuration_is_valid() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/demo/config.json"))
        .expect("demo config");
    Config::from_json(&text).expect("demo/config.json");
}
