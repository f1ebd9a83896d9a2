// p11-kit's PKCS#11 header (CRYPTOKI_COMPAT field names, the layout libp11-kit was built with) and the
// serve API of remote.h, which is declared only under P11_KIT_FUTURE_UNSTABLE_API (p11-kit-rpc.md §1).
#ifndef CP11KIT_SHIM_H
#define CP11KIT_SHIM_H
#define P11_KIT_FUTURE_UNSTABLE_API 1
#include <p11-kit/pkcs11.h>
#include <p11-kit/p11-kit.h>
#include <p11-kit/remote.h>
#endif
