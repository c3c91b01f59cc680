#!/bin/sh
# Prints an Authorization header for one request to mcp-docker, signed with ssh-keygen -Y sign.
# usage: examples/ssh-sign.sh <key> <client-id>
#   <key> is a private key file, or a public key file whose private half is in your ssh-agent.
#   curl -H "Authorization: $(examples/ssh-sign.sh ~/.ssh/id_ed25519 monitor)" https://host:8000/mcp ...
# Each header is good for one request (the nonce is single-use) within the server's clock window.
set -eu
key=$1
id=$2
ts=$(date +%s)
nonce=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
sig=$(printf '%s|%s|%s' "$id" "$ts" "$nonce" | ssh-keygen -q -Y sign -f "$key" -n mcp-docker | sed '1d;$d' | tr -d '\n')
printf 'Signature keyId="%s",ts="%s",nonce="%s",sig="%s"\n' "$id" "$ts" "$nonce" "$sig"
