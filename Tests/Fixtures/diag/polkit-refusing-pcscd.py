#!/usr/bin/env python3
"""Listens on a Unix socket path and does to every client what pcscd does when polkit refuses it
(org.debian.pcsc-lite.access_pcsc): accepts the connection, asks nobody for a few milliseconds (pcscd
asks polkit over D-Bus meanwhile), and closes it without reading anything (pcsc-lite's ContextThread:
IsClientAuthorized() == 0 -> close). Debian 12's pcscd is built without polkit, so this is how a refusal
is produced here. Prints `ready`; stops when standard input closes."""
import os
import socket
import sys
import threading

path = sys.argv[1]
if os.path.exists(path):
    os.unlink(path)
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(16)


def refuse():
    while True:
        client, _ = server.accept()
        threading.Timer(0.05, client.close).start()


threading.Thread(target=refuse, daemon=True).start()
print("ready", flush=True)
sys.stdin.read()
os.unlink(path)
