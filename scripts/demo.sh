#!/usr/bin/env bash
# The seed article's walkthrough, locally: a signing key and JWKS, a Cognito-shaped access
# token for `cognitouser` in group `pet-veterinarian`, and each request of the article run
# through the whole authorizer (the CLI's `authorize`, which drives the core exactly as
# the adapters do). Uses the embedded default configuration in demo/config.json.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${EDGE_AUTHZ_BIN:-target/release/edge-authz}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ -t 1 ]; then green=$'\e[32m'; red=$'\e[31m'; yellow=$'\e[33m'; dim=$'\e[2m'; off=$'\e[0m'; else green= red= yellow= dim= off=; fi

echo "1. signing key and JWKS            $bin jwks generate"
"$bin" jwks generate --alg RS256 --kid demo-key-1 --key-out "$work/key.json" --jwks-out "$work/jwks.json"
now=$(date +%s)
claims=$(cat <<JSON
{"sub":"7d8ca528-4931-4254-9273-ea5ee853f271","iss":"https://cognito-idp.local-1.amazonaws.com/local-1_PetStore",
 "client_id":"petstore-demo-client","token_use":"access","scope":"aws.cognito.signin.user.admin",
 "auth_time":$now,"iat":$now,"exp":$((now + 3600)),"jti":"demo-$now","username":"cognitouser",
 "cognito:groups":["pet-veterinarian"]}
JSON
)
token=$("$bin" token mint --key "$work/key.json" --claims "$claims")
echo "   token for cognitouser (group pet-veterinarian), expires in 1 h"

fails=0
step() { # name expected-status args...
  local name=$1 expected=$2; shift 2
  local out status line
  out=$("$bin" authorize --config demo/config.json --jwks "$work/jwks.json" "$@" || true)
  # `STATUS OUTCOME (REASON): EXPLANATION`
  status=${out%% *}
  reason=${out#*(}; reason=${reason%%)*}
  explanation=${out#*): }
  if [ "$status" = "$expected" ]; then mark="${green}ok${off}"; else mark="${red}UNEXPECTED (wanted $expected)${off}"; fails=$((fails + 1)); fi
  case $status in 200) colour=$green ;; 401|403) colour=$yellow ;; *) colour=$red ;; esac
  printf '  %-52s %s%s%s %-15s %s\n' "$name" "$colour" "$status" "$off" "$reason" "$mark"
  if [ "$status" != 200 ]; then printf '     %s%s%s\n' "$dim" "$explanation" "$off"; fi
}

echo "2. requests through the authorizer (policy: demo/config.json, group pet-veterinarian)"
step "no token                   GET /petstore/v1/pets" 401 --method GET --path /petstore/v1/pets --source-ip 192.0.2.10
step "the article's invalid token GET /petstore/v1/pets" 403 --method GET --path /petstore/v1/pets --source-ip 192.0.2.10 --token aGVhZGVy.Y2xhaW1z.c2lnbmF0dXJl
step "cognitouser                GET /petstore/v1/pets" 200 --method GET --path /petstore/v1/pets --source-ip 192.0.2.10 --token "$token"
step "cognitouser                GET /petstore/v2/pets" 403 --method GET --path /petstore/v2/pets --source-ip 192.0.2.10 --token "$token"
step "cognitouser                GET /petstore/v2/status" 200 --method GET --path /petstore/v2/status --source-ip 192.0.2.10 --token "$token"
step "cognitouser at 203.0.113.5 GET /petstore/v1/pets" 403 --method GET --path /petstore/v1/pets --source-ip 203.0.113.5 --token "$token"

if [ "$fails" -ne 0 ]; then echo "${red}$fails step(s) did not give the expected status${off}"; exit 1; fi
echo "3. all six outcomes as in the article."
