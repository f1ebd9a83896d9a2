/* Shared between module.c (state, checked calls) and forward.c (plain forwarders, function list). */
#ifndef CPS_MODULE_INTERNAL_H
#define CPS_MODULE_INTERNAL_H
#include <p11-kit/pkcs11.h>

/* p11-kit's client function list once C_Initialize succeeded; NULL before and after C_Finalize. */
CK_FUNCTION_LIST_PTR cps_client(void);

/* pss.c: CKM_SHA1/SHA256_RSA_PKCS_PSS hashed here, signed or verified by cpsd as CKM_RSA_PKCS_PSS. */
CK_RV cps_pss_init(CK_SESSION_HANDLE session, CK_MECHANISM_PTR mechanism, CK_OBJECT_HANDLE key, int verifying,
                   CK_RV (*forward)(CK_SESSION_HANDLE, CK_MECHANISM_PTR, CK_OBJECT_HANDLE));
int cps_pss_active(CK_SESSION_HANDLE session, int verifying);
CK_RV cps_pss_update(CK_SESSION_HANDLE session, int verifying, CK_BYTE_PTR part, CK_ULONG length);
CK_RV cps_pss_digest(CK_SESSION_HANDLE session, int verifying, CK_BYTE_PTR data, CK_ULONG length,
                     CK_BYTE digest[64], CK_ULONG *digest_length);
void cps_pss_finish(CK_SESSION_HANDLE session, int verifying, CK_RV rv, int length_query);
CK_RV cps_pss_mechanisms(CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count, CK_ULONG listed, CK_RV rv,
                         const CK_MECHANISM_TYPE *found, CK_ULONG found_count);
#endif
