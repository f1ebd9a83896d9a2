#!/usr/bin/python3
"""A local HTTPS server that, like a Pro Santé Connect card login page, requires TLS 1.2 client
authentication with a certificate issued by the CAs in --client-ca, and answers every request with
a page naming the subject of the client certificate it verified.

Usage: client_cert_server.py --port N --cert server.pem --key server.key --client-ca cas.pem
Prints "listening <port>" on stdout once it accepts connections; logs every handshake and request
(with the client certificate's subject) on stderr. Stops on SIGTERM.
"""

import argparse
import html
import http.server
import signal
import ssl
import sys


def subject_text(certificate):
    """'C=FR, SN=…, GN=…, CN=…' from the dict ssl.getpeercert() returns."""
    parts = []
    for rdn in certificate.get("subject", ()):
        for name, value in rdn:
            parts.append(f"{name}={value}")
    return ", ".join(parts)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        certificate = self.connection.getpeercert()
        subject = subject_text(certificate) if certificate else "(none)"
        version = self.connection.version()
        self.log_message("client certificate subject: %s; protocol: %s", subject, version)
        page = (
            "<!DOCTYPE html><html><head><title>client certificate</title></head><body>"
            f'<p id="protocol">{html.escape(version or "")}</p>'
            f'<p id="subject">{html.escape(subject)}</p>'
            "</body></html>"
        ).encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, format, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), format % args))
        sys.stderr.flush()


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, context):
        super().__init__(address, Handler)
        self.context = context

    def get_request(self):
        # The handshake happens in the handler's thread (do_handshake_on_connect), so a browser that
        # keeps a connection waiting for its user (certificate choice, PIN) does not block the others.
        sock, address = self.socket.accept()
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def handle_error(self, request, client_address):
        # Browsers drop connections they no longer need (a speculative one, the favicon's): one line, no
        # traceback.
        sys.stderr.write(f"{client_address[0]} connection error: {sys.exc_info()[1]!r}\n")
        sys.stderr.flush()

    def finish_request(self, request, client_address):
        try:
            request.do_handshake()
        except (ssl.SSLError, OSError) as error:
            sys.stderr.write(f"{client_address[0]} handshake failed: {error}\n")
            sys.stderr.flush()
            return
        super().finish_request(request, client_address)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--client-ca", required=True)
    parser.add_argument(
        "--tls13", action="store_true",
        help="accept TLS 1.3 too (a CPS4 signs the RSA-PSS it requires; a CPS3 cannot)")
    arguments = parser.parse_args()

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    # CPS3 keys sign with PKCS#1 v1.5 only, which TLS 1.3 forbids for the handshake: a CPS3 login is
    # TLS 1.2. A CPS4 signs RSA-PSS, so with --tls13 the browser negotiates TLS 1.3.
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.TLSv1_3 if arguments.tls13 else ssl.TLSVersion.TLSv1_2
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cafile=arguments.client_ca)
    context.load_cert_chain(arguments.cert, arguments.key)

    server = Server(("127.0.0.1", arguments.port), context)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"listening {arguments.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
