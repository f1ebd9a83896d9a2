#!/usr/bin/env python3
"""Takes a TCP port on 127.0.0.1 (listening, never answering), as another program squatting cpsd's
bridge port would. Prints `ready`; stops when standard input closes."""
import socket
import sys

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind(("127.0.0.1", int(sys.argv[1])))
server.listen(16)
print("ready", flush=True)
sys.stdin.read()
