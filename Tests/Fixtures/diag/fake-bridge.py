#!/usr/bin/env python3
"""An HTTPS server on 127.0.0.1:PORT answering GET /v1/status like a bridge of another protocol version
(`cps-bridge/2`), with the certificate and key given: what a cpsd from another release would look like to
this cpsctl. Prints `ready`; stops when standard input closes."""
import http.server
import json
import ssl
import sys
import threading

port, certificate, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]


class Status(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"protocol": "cps-bridge/2", "version": "9.0.0", "readers": []}).encode()
        self.send_response(200 if self.path == "/v1/status" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *arguments):
        pass


server = http.server.HTTPServer(("127.0.0.1", port), Status)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(certificate, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
print("ready", flush=True)
sys.stdin.read()
