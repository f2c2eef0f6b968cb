#!/usr/bin/env bash
# Sets a new version of the pseudonymization key: 32 random bytes, base64, generated here and piped
# straight into Key Vault. The key is never written to a file, an argument list or the terminal.
#
#   infra/scripts/set-pseudonymization-key.sh <vault-name> [secret-name]
#
# The first run creates the key. Any later run ROTATES it, which is a planned re-keying, not a
# routine chore: tokens are HMACs under the key, so the same child gets different tokens under the
# new version and is no longer linked to records made under the old one (each token records its
# key version). Read "Rotating the key" in infra/DEPLOY.md first; the script asks before replacing.
# Needs: az (logged in, Key Vault Secrets Officer on the vault), openssl.
set -euo pipefail

vault="${1:?usage: set-pseudonymization-key.sh <vault-name> [secret-name]}"
secret="${2:-pseudonymization-key}"

if current="$(az keyvault secret show --vault-name "$vault" --name "$secret" --query id --output tsv 2>/dev/null)" && [ -n "$current" ]; then
  echo "A key exists: $current"
  read -r -p "Replace it with a new version (a re-keying: new tokens for every child)? Type ROTATE: " answer
  if [ "$answer" != "ROTATE" ]; then
    echo "Unchanged."
    exit 1
  fi
fi

openssl rand -base64 32 | tr -d '\n' | az keyvault secret set --vault-name "$vault" --name "$secret" \
  --file /dev/stdin --encoding utf-8 --content-type "base64 HMAC key (32 bytes)" \
  --query "{id: id, created: attributes.created}" --output table
echo "The app reads the new version within 5 minutes (KeyVaultKeyProvider's cache); no restart is needed."
