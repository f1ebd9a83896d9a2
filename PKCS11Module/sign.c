/* Signing and verification: Cryptolib's argument checks, and the hashed PSS mechanisms done through pss.c. */
#include "module.h"

static CK_RV sign_init(CK_SESSION_HANDLE session, CK_MECHANISM_PTR mechanism, CK_OBJECT_HANDLE key) {
    return cps_client()->C_SignInit(session, mechanism, key);
}

static CK_RV verify_init(CK_SESSION_HANDLE session, CK_MECHANISM_PTR mechanism, CK_OBJECT_HANDLE key) {
    return cps_client()->C_VerifyInit(session, mechanism, key);
}

static int hashed_pss(CK_MECHANISM_PTR mechanism) {
    return mechanism != NULL
        && (mechanism->mechanism == CKM_SHA1_RSA_PKCS_PSS || mechanism->mechanism == CKM_SHA256_RSA_PKCS_PSS);
}

CK_RV C_SignInit(CK_SESSION_HANDLE session, CK_MECHANISM_PTR mechanism, CK_OBJECT_HANDLE key) {
    if (cps_client() == NULL) return CKR_CRYPTOKI_NOT_INITIALIZED;
    if (mechanism == NULL) return CKR_ARGUMENTS_BAD;
    if (hashed_pss(mechanism)) return cps_pss_init(session, mechanism, key, 0, sign_init);
    return sign_init(session, mechanism, key);
}

/* The digest of everything fed, signed by cpsd with CKM_RSA_PKCS_PSS. */
static CK_RV sign_digest(CK_SESSION_HANDLE session, CK_BYTE_PTR data, CK_ULONG length, CK_BYTE_PTR signature,
                         CK_ULONG_PTR signature_length) {
    CK_BYTE digest[64];
    CK_ULONG digest_length = 0;
    CK_RV rv = cps_pss_digest(session, 0, data, length, digest, &digest_length);
    if (rv == CKR_OK) rv = cps_client()->C_Sign(session, digest, digest_length, signature, signature_length);
    cps_pss_finish(session, 0, rv, signature == NULL);
    return rv;
}

/* C_Sign with no data is a caller error for Cryptolib, not a length query (p11-kit's client lets it through). */
CK_RV C_Sign(CK_SESSION_HANDLE session, CK_BYTE_PTR data, CK_ULONG length, CK_BYTE_PTR signature,
             CK_ULONG_PTR signature_length) {
    CK_FUNCTION_LIST_PTR f = cps_client();
    if (f == NULL) return CKR_CRYPTOKI_NOT_INITIALIZED;
    if ((data == NULL && length != 0) || signature_length == NULL) return CKR_ARGUMENTS_BAD;
    if (data == NULL && signature != NULL) return CKR_ARGUMENTS_BAD;
    if (cps_pss_active(session, 0)) return sign_digest(session, data, length, signature, signature_length);
    return f->C_Sign(session, data, length, signature, signature_length);
}

CK_RV C_SignUpdate(CK_SESSION_HANDLE session, CK_BYTE_PTR part, CK_ULONG length) {
    CK_FUNCTION_LIST_PTR f = cps_client();
    if (f == NULL) return CKR_CRYPTOKI_NOT_INITIALIZED;
    if (part == NULL && length != 0) return CKR_ARGUMENTS_BAD;
    if (cps_pss_active(session, 0)) return cps_pss_update(session, 0, part, length);
    return f->C_SignUpdate(session, part, length);
}

CK_RV C_SignFinal(CK_SESSION_HANDLE session, CK_BYTE_PTR signature, CK_ULONG_PTR signature_length) {
    CK_FUNCTION_LIST_PTR f = cps_client();
    if (f == NULL) return CKR_CRYPTOKI_NOT_INITIALIZED;
    if (signature_length == NULL) return CKR_ARGUMENTS_BAD;
    if (cps_pss_active(session, 0)) return sign_digest(session, NULL, 0, signature, signature_length);
    return f->C_SignFinal(session, signature, signature_length);
}

CK_RV C_VerifyInit(CK_SESSION_HANDLE session, CK_MECHANISM_PTR mechanism, CK_OBJECT_HANDLE key) {
    if (cps_client() == NULL) return CKR_CRYPTOKI_NOT_INITIALIZED;
    if (mechanism == NULL) return CKR_ARGUMENTS_BAD;
    if (hashed_pss(mechanism)) return cps_pss_init(session, mechanism, key, 1, verify_init);
    return verify_init(session, mechanism, key);
}

static CK_RV verify_digest(CK_SESSION_HANDLE session, CK_BYTE_PTR data, CK_ULONG length, CK_BYTE_PTR signature,
                           CK_ULONG signature_length) {
    CK_BYTE digest[64];
    CK_ULONG digest_length = 0;
    CK_RV rv = cps_pss_digest(session, 1, data, length, digest, &digest_length);
    if (rv == CKR_OK) rv = cps_client()->C_Verify(session, digest, digest_length, signature, signature_length);
    cps_pss_finish(session, 1, rv, 0);
    return rv;
}

CK_RV C_Verify(CK_SESSION_HANDLE session, CK_BYTE_PTR data, CK_ULONG length, CK_BYTE_PTR signature,
               CK_ULONG signature_length) {
    CK_FUNCTION_LIST_PTR f = cps_client();
    if (f == NULL) return CKR_CRYPTOKI_NOT_INITIALIZED;
    if ((data == NULL && length != 0) || signature == NULL) return CKR_ARGUMENTS_BAD;
    if (cps_pss_active(session, 1)) return verify_digest(session, data, length, signature, signature_length);
    return f->C_Verify(session, data, length, signature, signature_length);
}

CK_RV C_VerifyUpdate(CK_SESSION_HANDLE session, CK_BYTE_PTR part, CK_ULONG length) {
    CK_FUNCTION_LIST_PTR f = cps_client();
    if (f == NULL) return CKR_CRYPTOKI_NOT_INITIALIZED;
    if (part == NULL && length != 0) return CKR_ARGUMENTS_BAD;
    if (cps_pss_active(session, 1)) return cps_pss_update(session, 1, part, length);
    return f->C_VerifyUpdate(session, part, length);
}

CK_RV C_VerifyFinal(CK_SESSION_HANDLE session, CK_BYTE_PTR signature, CK_ULONG signature_length) {
    CK_FUNCTION_LIST_PTR f = cps_client();
    if (f == NULL) return CKR_CRYPTOKI_NOT_INITIALIZED;
    if (signature == NULL) return CKR_ARGUMENTS_BAD;
    if (cps_pss_active(session, 1)) return verify_digest(session, NULL, 0, signature, signature_length);
    return f->C_VerifyFinal(session, signature, signature_length);
}
