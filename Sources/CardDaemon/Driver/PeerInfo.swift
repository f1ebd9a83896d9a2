package import PKCS11

// `PeerInfo` (who is at the other end of a client's connection) and `TokenServiceControl` live in the
// PKCS11 target, so that the socket layer can attribute clients without knowing the daemon.
