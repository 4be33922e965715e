#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, from the test suite.

Writes fuzz/corpus/<target>/seed-* (fuzz/corpus is not committed) from
tests/cases/*.json (configurations, policies, token specs, requests), the README's
`json config` / `json policy` blocks, demo/config.json, the JSON documents written inline
in tests/*.rs, the key fixtures of tests/vectors/keys, and fuzz/seeds/<target>/* (small
hand-written seeds, committed). Run from anywhere: `python3 fuzz/seeds.py [TARGET...]`.
The `authorizer` target takes structured (`arbitrary`) input and starts from the empty
corpus: its pools of tokens and policies are the suite's, built in at start-up.
"""

import hashlib
import json
import pathlib
import re
import sys

FUZZ = pathlib.Path(__file__).resolve().parent
ROOT = FUZZ.parent
CASES = ROOT / "tests" / "cases"
NOW = 1767225600


def compact(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def scenarios():
    files = sorted(p for p in CASES.glob("*.json") if p.name != "keys.json")
    return [(p.name, json.loads(p.read_text())) for p in files]


def rust_raw_strings():
    """The JSON objects written as raw strings (r#"{...}"#) in the Rust tests."""
    out = []
    for path in sorted((ROOT / "tests").glob("*.rs")):
        for m in re.finditer(r'r#"(\{.*?\})"#', path.read_text(), re.S):
            text = m.group(1)
            if "{{" in text:  # a format! template
                continue
            try:
                json.loads(text)
            except ValueError:
                pass  # invalid on purpose: still a good seed
            out.append(text)
    return out


def readme_blocks(kind):
    text = (ROOT / "README.md").read_text()
    return [m.group(1) for m in re.finditer(r"```json " + kind + r"\n(.*?)```", text, re.S)]


def public_jwks():
    keys = json.loads((CASES / "keys.json").read_text())["keys"]
    private = {"d", "p", "q", "dp", "dq", "qi"}
    return [{k: v for k, v in key.items() if k not in private} for key in keys]


def policies():
    out = []
    for _, doc in scenarios():
        pol = doc["config"].get("policies", {})
        out += [compact(v) for v in pol.get("groups", {}).values()]
        out += [compact(pol[k]) for k in ("everyone", "noGroup") if isinstance(pol.get(k), dict)]
        for v in doc.get("store", {}).values():
            if isinstance(v, str):
                out.append(v)
            elif isinstance(v, dict):
                out.append(compact(v))
    out += readme_blocks("policy")
    out += [t for t in rust_raw_strings() if "Statement" in t]
    return out


def requests():
    """Requests of the suite, in the policy target's request syntax."""
    out = []
    for _, doc in scenarios():
        for case in doc["cases"]:
            r = case["request"]
            lines = [r["method"] + r["path"]]
            if r.get("sourceIp"):
                lines.append("ip " + r["sourceIp"])
            for k, v in r.get("headers", {}).items():
                lines.append(f"h {k.lower()}={v}")
            for k, v in r.get("query", {}).items():
                lines.append(f"q {k}={v}")
            out.append("\n".join(lines))
    return sorted(set(out))


def seeds_policy():
    reqs = requests() or ["GET/pets/1"]
    extra = "\nua curl/8.0\nref https://app.example.com/x\ntls\nnow 1767225600\n" + \
        'claims {"sub":"alice","cognito:groups":["g1"],"level":3,"email":"a@example.com"}'
    out = []
    for i, p in enumerate(policies()):
        out.append(p)
        out.append(p + "\0" + reqs[i % len(reqs)])
        out.append(p + "\0" + reqs[(i * 7 + 3) % len(reqs)] + extra)
    return out


def seeds_jwks():
    keys = public_jwks()
    out = [compact({"keys": keys})] + [compact({"keys": [k]}) for k in keys]
    out.append(compact({"keys": [dict(k, kid="same") for k in keys]}))
    out.append(compact({"keys": [{k: v for k, v in key.items() if k not in ("kid", "alg")} for key in keys]}))
    for path in sorted((ROOT / "tests" / "vectors" / "keys").glob("*.json")):
        jwk = json.loads(path.read_text())
        jwk = {k: v for k, v in jwk.items() if k not in {"d", "p", "q", "dp", "dq", "qi"}}
        out.append(compact({"keys": [jwk]}))
    out += [t for t in rust_raw_strings() if '"kty"' in t or '"keys"' in t]
    return out


def seeds_config():
    out = [compact(doc["config"]) for _, doc in scenarios()]
    out.append((ROOT / "demo" / "config.json").read_text())
    out += readme_blocks("config")
    out += [t for t in rust_raw_strings() if '"issuers"' in t]
    return out


def seeds_header():
    out = []
    # The locator's unit-test rules (src/credentials.rs) and variants.
    for flags, lines in [
        ("", []),
        ("", ["Authorization: Bearer a.b.c"]),
        ("", ["AUTHORIZATION: bearer a.b.c"]),
        ("", ["authorization: BeArEr   a.b.c  "]),
        ("", ["authorization: "]),
        ("", ["authorization: Bearer"]),
        ("", ["authorization: a.b.c"]),
        ("b", ["authorization: a.b.c"]),
        ("", ["authorization: Basic dXNlcjpwYXNz"]),
        ("", ["authorization: Bearer a.b.c d.e.f"]),
        ("", ["authorization: Bearer a.b.c,d"]),
        ("", ["authorization: Bearer a.b.c", "Authorization: Bearer a.b.c"]),
        ("c", ["cookie: theme=dark; id_token=a.b.c"]),
        ("c", ["cookie: id_token=a.b.c; id_token=d.e.f"]),
        ("c", ["cookie: id_token=\"a.b.c\"", "cookie: x=y"]),
        ("h", ["X-Auth: Bearer a.b.c", "authorization: Bearer x.y.z"]),
        ("hb", ["x-auth: \ta.b.c=="]),
        ("", ["@Bearer a.b.c", "authorization: garbage"]),
        ("b", ["@a.b.c"]),
    ]:
        out.append("\n".join([flags] + lines))
    for _, doc in scenarios():
        for case in doc["cases"]:
            headers = case["request"].get("headers", {})
            if headers:
                lines = [f"{k}: {v.replace('{token}', 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln')}" for k, v in headers.items()]
                out.append("\n".join([""] + lines))
    return out


def seeds_token():
    out = []
    for index, (_, doc) in enumerate(scenarios()):
        for case in doc["cases"]:
            spec = case.get("token")
            if not spec:
                continue
            now = case["now"]
            if "raw" in spec:
                out.append(f"raw {index}\n{now}\n{spec['raw']}")
                continue
            kid = spec["key"]
            alg = {"suite-rsa": "RS256", "suite-ec": "ES256", "suite-ed": "EdDSA"}.get(kid.rsplit("-", 1)[0], "RS256")
            header = {"alg": alg, "typ": "JWT", "kid": kid}
            for k, v in (spec.get("header") or {}).items():
                if v is None:
                    header.pop(k, None)
                else:
                    header[k] = v
            claims = spec.get("claims") or {}
            lines = [f"{kid} {index}", str(now), compact(header), compact(claims)]
            if spec.get("tamper") == "payload":
                lines.append(compact(dict(claims, sub="someone-else")))
            out.append("\n".join(lines))
            # The same claims signed by the forger, and by the real Ed25519 key.
            for signer in ("forger", "suite-ed-1"):
                ed = {"alg": "EdDSA", "typ": "JWT", "kid": "suite-ed-1"}
                out.append("\n".join([f"{signer} {index}", str(now), compact(ed), compact(claims)]))
    return out


def seeds_claims():
    """Token payloads and headers of the suite as JSON text, the JSON objects of the Rust
    tests, and documents at the reader's edges (escapes, surrogates, numbers, duplicates,
    nesting)."""
    out = []
    for _, doc in scenarios():
        for case in doc["cases"]:
            spec = case.get("token") or {}
            for part in ("claims", "header"):
                if isinstance(spec.get(part), dict):
                    out.append(compact(spec[part]))
                    out.append(json.dumps(spec[part], indent=1))
    out += rust_raw_strings()
    out += [
        '{"sub":"a\\u00e9\\ud83d\\ude00\\n\\"","aud":["c1","c\\u0031"],"exp":1767225900}',
        '{"exp":1.7672259e9,"nbf":-0.0,"iat":1e400,"x":123456789012345678901234567890}',
        '{"exp":01}',
        '{"a":1,"a":2}',
        '{"x":{"a":[{"b":1,"b":2}]}}',
        '{"\\u0061":1,"a":2}',
        '{"x":' + "[" * 63 + "]" * 63 + "}",
        '{"x":' + "[" * 64 + "]" * 64 + "}",
        '{"cognito:groups":["admin","a\\"b"],"token_use":"id","sub":"s"} ',
        '{"k' + '":0,"k'.join(str(i) for i in range(20)) + '":0}',
    ]
    return out


def seeds_request_path():
    """Every path of the suite's requests, under each rule combination's flag byte."""
    paths = set()
    for _, scenario in scenarios():
        for case in scenario["cases"]:
            paths.add(case["request"]["path"])
    return [bytes([flags]) + p.encode() for p in sorted(paths) for flags in (0, 63)]


TARGETS = {
    "request_path": seeds_request_path,
    "policy": seeds_policy,
    "jwks": seeds_jwks,
    "config": seeds_config,
    "header": seeds_header,
    "token": seeds_token,
    "claims": seeds_claims,
    "authorizer": lambda: [],
}


def main(argv):
    names = argv or list(TARGETS)
    for name in names:
        if name not in TARGETS:
            sys.exit(f"seeds.py: unknown target {name} (known: {' '.join(TARGETS)})")
        seeds = [s.encode() if isinstance(s, str) else s for s in TARGETS[name]()]
        hand = FUZZ / "seeds" / name
        if hand.is_dir():
            seeds += [p.read_bytes() for p in sorted(hand.iterdir()) if p.is_file()]
        out = FUZZ / "corpus" / name
        out.mkdir(parents=True, exist_ok=True)
        for seed in seeds:
            digest = hashlib.sha1(seed).hexdigest()[:16]
            (out / f"seed-{digest}").write_bytes(seed)
        print(f"{name}: {len(set(seeds))} seeds in {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
