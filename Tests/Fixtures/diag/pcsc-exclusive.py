#!/usr/bin/env python3
"""Holds the card of one reader with SCARD_SHARE_EXCLUSIVE (as a second middleware or a card tool left
open does), through libpcsclite with ctypes, until standard input closes. Prints `ready` once held.
Sends no APDU."""
import ctypes
import sys

SCARD_SCOPE_SYSTEM = 2
SCARD_SHARE_EXCLUSIVE = 1
SCARD_PROTOCOL_T0_T1 = 3
SCARD_LEAVE_CARD = 0

pcsc = ctypes.CDLL("libpcsclite.so.1")
pcsc.SCardEstablishContext.argtypes = [ctypes.c_ulong, ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_long)]
pcsc.SCardConnect.argtypes = [ctypes.c_long, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_ulong,
                              ctypes.POINTER(ctypes.c_long), ctypes.POINTER(ctypes.c_ulong)]
pcsc.SCardDisconnect.argtypes = [ctypes.c_long, ctypes.c_ulong]

context = ctypes.c_long(0)
rv = pcsc.SCardEstablishContext(SCARD_SCOPE_SYSTEM, None, None, ctypes.byref(context))
if rv != 0:
    print(f"SCardEstablishContext: {rv & 0xFFFFFFFF:#x}", flush=True)
    sys.exit(1)
card = ctypes.c_long(0)
protocol = ctypes.c_ulong(0)
rv = pcsc.SCardConnect(context, sys.argv[1].encode(), SCARD_SHARE_EXCLUSIVE, SCARD_PROTOCOL_T0_T1,
                       ctypes.byref(card), ctypes.byref(protocol))
if rv != 0:
    print(f"SCardConnect: {rv & 0xFFFFFFFF:#x}", flush=True)
    sys.exit(1)
print("ready", flush=True)
sys.stdin.read()
pcsc.SCardDisconnect(card, SCARD_LEAVE_CARD)
