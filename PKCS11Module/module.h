/* Shared between module.c (state, checked calls) and forward.c (plain forwarders, function list). */
#ifndef CPS_MODULE_INTERNAL_H
#define CPS_MODULE_INTERNAL_H
#include <p11-kit/pkcs11.h>

/* p11-kit's client function list once C_Initialize succeeded; NULL before and after C_Finalize. */
CK_FUNCTION_LIST_PTR cps_client(void);
#endif
