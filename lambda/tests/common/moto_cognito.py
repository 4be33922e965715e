"""Cognito user-pool steps against moto's server, with boto3 (installed beside moto_server in
`make lambda-test`'s venv). Prints one JSON object per call.

  moto_cognito.py ENDPOINT setup GROUP        a pool, an app client, a user in GROUP, signed in
  moto_cognito.py ENDPOINT sign-in POOL CLIENT USER   a new sign-in of the setup's user
  moto_cognito.py ENDPOINT sign-out POOL USER         AdminUserGlobalSignOut
"""
import json
import sys

import boto3

endpoint, step, *args = sys.argv[1:]
cognito = boto3.client(
    "cognito-idp",
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="test",
    aws_secret_access_key="test",
)
USER = "cognitouser"
PASSWORD = "Passw0rdPassw0rd!"


def sign_in(pool, client, user):
    return cognito.admin_initiate_auth(
        UserPoolId=pool,
        ClientId=client,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]["AccessToken"]


if step == "setup":
    (group,) = args
    pool = cognito.create_user_pool(PoolName="revoker-e2e")["UserPool"]["Id"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool,
        ClientName="revoker-e2e",
        ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    user = USER
    cognito.admin_create_user(UserPoolId=pool, Username=user, MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=pool, Username=user, Password=PASSWORD, Permanent=True)
    cognito.create_group(UserPoolId=pool, GroupName=group)
    cognito.admin_add_user_to_group(UserPoolId=pool, Username=user, GroupName=group)
    attributes = cognito.admin_get_user(UserPoolId=pool, Username=user)["UserAttributes"]
    sub = next(a["Value"] for a in attributes if a["Name"] == "sub")
    print(json.dumps({"pool": pool, "client": client, "user": user, "sub": sub,
                      "accessToken": sign_in(pool, client, user)}))
elif step == "sign-in":
    pool, client, user = args
    print(json.dumps({"accessToken": sign_in(pool, client, user)}))
elif step == "sign-out":
    pool, user = args
    cognito.admin_user_global_sign_out(UserPoolId=pool, Username=user)
    print(json.dumps({"signedOut": user}))
else:
    sys.exit(f"unknown step {step}")
