#!/usr/bin/env bash
# A small local certificate authority and the gateway's HTTPS certificate, with openssl:
#
#   bash scripts/make-tls.sh DIR NAME [ADDRESS ...]
#
# DIR/ca.key, DIR/ca.crt   the authority: made once, kept (a tablet trusts it once, for 10 years)
# DIR/server.key, .crt     the gateway's certificate for NAME.local, NAME, localhost and each
#                          ADDRESS (IPv4 or IPv6), signed by the authority; made again when the
#                          names change or it has less than 30 days left
#
# The server certificate lives 825 days: the longest iPadOS and macOS accept for a TLS server
# certificate, also from a locally trusted authority (Apple, "Requirements for trusted
# certificates in iOS 13 and macOS 10.15"); it carries subjectAltName and serverAuth, which they
# and Chrome require. Installed by scripts/install-pi.sh; used by the HTTPS tests.
set -euo pipefail
dir=${1:?usage: make-tls.sh DIR NAME [ADDRESS ...]}
name=${2:?usage: make-tls.sh DIR NAME [ADDRESS ...]}
shift 2
SERVER_DAYS=825
CA_DAYS=3650
RENEW_BEFORE_S=$((30 * 24 * 3600))

sans="DNS:$name.local,DNS:$name,DNS:localhost,IP:127.0.0.1,IP:::1"
for a in "$@"; do
  case $a in
    127.0.0.1 | ::1) ;;
    *[!0-9a-fA-F:.]* | '') echo "make-tls: \"$a\" is not an IP address" >&2 && exit 1 ;;
    *) sans="$sans,IP:$a" ;;
  esac
done

mkdir -p "$dir"
umask 077
if [ ! -s "$dir/ca.key" ] || [ ! -s "$dir/ca.crt" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days $CA_DAYS \
    -subj "/O=Presso Gateway/CN=Presso Gateway local CA ($name)" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
  echo "make-tls: new certificate authority $dir/ca.crt"
fi

if [ -s "$dir/server.crt" ] && [ -s "$dir/server.key" ] && [ "$(cat "$dir/server.names" 2>/dev/null)" = "$sans" ] &&
  openssl x509 -in "$dir/server.crt" -noout -checkend $RENEW_BEFORE_S >/dev/null; then
  echo "make-tls: $dir/server.crt is current ($sans)"
  exit 0
fi
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -subj "/O=Presso Gateway/CN=$name.local" -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
ext=$(mktemp)
trap 'rm -f "$ext" "$dir/server.csr"' EXIT
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' \
  "$sans" >"$ext"
openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
  -days $SERVER_DAYS -sha256 -extfile "$ext" -out "$dir/server.crt" 2>/dev/null
printf '%s' "$sans" >"$dir/server.names"
chmod 0644 "$dir/ca.crt" "$dir/server.crt"
echo "make-tls: certificate $dir/server.crt for $sans"
