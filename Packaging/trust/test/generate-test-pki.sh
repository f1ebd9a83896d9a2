#!/bin/sh
# Generates the cpsd TEST PKI (a look-alike of the IGC-Santé TEST "FORT" hierarchy) with OpenSSL 3.
#
# This was run ONCE; its output is committed (the two certificates here, and the certificates plus the
# intermediate private key in Sources/VirtualCard/Provisioning/TestPKIMaterial.swift). Running it again
# yields a DIFFERENT CA (new keys), which would invalidate every card already provisioned and the shipped
# trust store, so only do it on purpose and then update TestPKIMaterial.swift too.
#
# The root private key is thrown away with the work directory: nothing needs it after the intermediate
# is issued. Usage: generate-test-pki.sh OUTPUT_DIRECTORY
set -eu
out=${1:?usage: generate-test-pki.sh OUTPUT_DIRECTORY}
bits=${BITS:-4096}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

base='/C=FR/O=ASIP-SANTE/OU=0002 187512751/OU=IGC-SANTE TEST'
start=20130625000000Z
end=20330625000000Z

cat > ca.cnf <<CONF
[ ca ]
default_ca = testca
[ testca ]
dir = .
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = anything
unique_subject = no
preserve = yes
copy_extensions = none
email_in_dn = no
utf8 = yes
[ anything ]
countryName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied
[ req ]
distinguished_name = dn
string_mask = utf8only
utf8 = yes
[ dn ]
[ root_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
certificatePolicies = @testpolicy
[ intermediate_ext ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
certificatePolicies = @testpolicy
[ testpolicy ]
policyIdentifier = anyPolicy
CPS.1 = http://igc-sante.esante.gouv.fr/PC%20TEST
CONF
: > index.txt
openssl rand -hex 16 | sed 's/^./1/' > serial

openssl genrsa -out root.key "$bits" 2>/dev/null
openssl req -new -config ca.cnf -key root.key -subj "$base/CN=TEST AC RACINE IGC-SANTE FORT" -out root.csr
openssl ca -batch -config ca.cnf -selfsign -keyfile root.key -in root.csr -extensions root_ext \
    -startdate "$start" -enddate "$end" -notext -out root.pem 2>/dev/null

openssl genrsa -out intermediate.key "$bits" 2>/dev/null
openssl req -new -config ca.cnf -key intermediate.key -subj "$base/CN=TEST AC IGC-SANTE FORT PERSONNES" \
    -out intermediate.csr
openssl rand -hex 16 | sed 's/^./2/' > serial
openssl ca -batch -config ca.cnf -cert root.pem -keyfile root.key -in intermediate.csr -extensions intermediate_ext \
    -startdate "$start" -enddate "$end" -notext -out intermediate.pem 2>/dev/null

openssl verify -CAfile root.pem intermediate.pem
cp root.pem "$out/TEST-AC-RACINE-IGC-SANTE-FORT.pem"
cp intermediate.pem "$out/TEST-AC-IGC-SANTE-FORT-PERSONNES.pem"
openssl rsa -in intermediate.key -traditional -out "$out/TEST-AC-IGC-SANTE-FORT-PERSONNES.key" 2>/dev/null
