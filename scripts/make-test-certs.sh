#!/usr/bin/env bash
# Makes a throwaway PKI for TLS tests in DIR (created if missing), with openssl:
#   ca.crt/ca.key            the cluster's CA (client and peer certificates are signed by it)
#   m1..mN.crt/.key          one certificate per member, server and client use (a member dials its peers with it),
#                            SAN IP:127.0.0.1, DNS:localhost, CN=mI
#   client.crt/.key          a client certificate, CN=root (with auth on, etcd takes the CN as the user name)
#   USER.crt/.key            one more client certificate per name in CLIENT_USERS (space-separated; default "alice")
#   other-ca.crt/.key        a second, unrelated CA
#   rogue.crt/.key           a member/client certificate signed by other-ca (the negative tests' certificate)
# MEMBERS sets N (default 4). Keys are unencrypted EC P-256; certificates are valid for 2 days.
set -euo pipefail
dir=${1:?usage: make-test-certs.sh DIR}
members=${MEMBERS:-4}
client_users=${CLIENT_USERS:-alice}
mkdir -p "$dir"
cd "$dir"

new_key() { openssl ecparam -name prime256v1 -genkey -noout -out "$1.key" 2>/dev/null; }

make_ca() { # name subject
  new_key "$1"
  openssl req -x509 -new -key "$1.key" -sha256 -days 2 -subj "/CN=$2" -out "$1.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

sign() { # name common-name ca
  new_key "$1"
  openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr" 2>/dev/null
  cat >"$1.ext" <<EXT
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=IP:127.0.0.1,DNS:localhost
EXT
  openssl x509 -req -in "$1.csr" -CA "$3.crt" -CAkey "$3.key" -CAcreateserial -days 2 -sha256 \
    -extfile "$1.ext" -out "$1.crt" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

make_ca ca "CurpStore test CA"
make_ca other-ca "Another CA"
for i in $(seq 1 "$members"); do
  sign "m$i" "m$i" ca
done
sign client root ca
for user in $client_users; do
  sign "$user" "$user" ca
done
sign rogue rogue other-ca
rm -f ./*.srl
echo "certificates in $(pwd)"
